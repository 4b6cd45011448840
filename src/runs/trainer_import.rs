//! The result of a transformers Trainer job (`export::trainer_job`) read back as a
//! finished run: its `model/` folder (Hugging Face layout) copied into a new run, its
//! per-epoch validation predictions scored with the engine's own metrics, and the model
//! finished as a trained run's best model is: on the validation rows, an int8 check and
//! a fitted temperature, or each label's threshold tuned for a multi-label model.

use super::store::RunStore;
use crate::calibration::calibrate;
use crate::dataset::Example;
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::events::{EpochRecord, RunSummary, TrainEvent};
use crate::metrics::Metrics;
use crate::model::folder::copy_model;
use crate::model::read_head;
use crate::model::tokenize::TextEncoder;
use crate::model_card::{ModelCard, MultiLabelCard};
use crate::predict::{PredictionPrecision, Predictor};
use crate::settings::TrainConfig;
use crate::train::DataSpec;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What `train.py` writes beside the model.
pub const IMPORT_FILE: &str = "dialect-import.json";
/// The model folder inside a job's output.
const MODEL: &str = "model";

/// `dialect-import.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrainerOutput {
    source: Source,
    /// The data file the job read.
    data: PathBuf,
    base_model: String,
    labels: Vec<String>,
    multi_label: bool,
    /// Each validation row's classes (indices into `labels`), in the run's order.
    truth: Vec<Vec<usize>>,
    epochs: Vec<Evaluation>,
    /// 1-based, as `epochs[].epoch`.
    best_epoch: Option<usize>,
    steps: usize,
    /// `train.py --max-steps`: the job trained this many steps and evaluated once at
    /// the end instead of each epoch; 0 (or absent) when it trained by epochs.
    #[serde(default)]
    max_steps: usize,
    seconds: f64,
    device: String,
}

/// The exported run's settings.
#[derive(Debug, Deserialize)]
struct Source {
    config: TrainConfig,
    data: DataSpec,
}

/// One evaluation of the job.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Evaluation {
    epoch: usize,
    step: usize,
    train_loss: f64,
    eval_loss: f64,
    seconds: f64,
    samples_per_second: f64,
    /// Each validation row's predicted classes (one for a single-label run).
    predicted: Vec<Vec<usize>>,
}

impl RunStore {
    /// Record the output folder of a Trainer job (`model/` and `dialect-import.json`)
    /// as a new finished run, on the rows of the data file the job read (which must
    /// still hold the exported run's validation rows). Returns the new run's id.
    pub fn import_trainer_output(&self, folder: &Path) -> Result<String> {
        let path = folder.join(IMPORT_FILE);
        if !path.is_file() {
            return Err(EngineError::Config(format!(
                "{} holds no {IMPORT_FILE}: pick the output folder of a Trainer job that ran \
                 to the end (train.py writes it there last)",
                folder.display()
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| EngineError::io(&path, e))?;
        let output: TrainerOutput = serde_json::from_str(&text).map_err(|e| {
            EngineError::data(&path, format!("is not the result of a Trainer job: {e}"))
        })?;
        let model = folder.join(MODEL);
        if !model.join("config.json").is_file() {
            return Err(EngineError::Config(format!(
                "{} holds no model (config.json): did the job finish?",
                model.display()
            )));
        }
        let epochs = output.scored_epochs(&path)?;
        output.check_model(&model)?;
        let mut data = output.source.data.clone();
        data.path = output.data.clone();
        let rows = data.load(true)?.data;
        let validation = rows.validation;
        output.check_rows(&data.path, &validation)?;
        let mut config = output.source.config.clone();
        config.model = output.base_model.clone();
        let (steps_per_epoch, total_steps) = output.plan(&mut config);
        let truncated_rows = truncated_rows(&model, config.max_length, &rows.train)?;
        let mut run = self.create(&config, &data, &validation)?;
        let output_dir = run.config().output_dir.clone();
        let best = output
            .best_epoch
            .and_then(|b| epochs.iter().find(|e| e.epoch == b));
        let device = format!(
            "{} (trained by transformers Trainer, imported)",
            output.device
        );
        let summary = RunSummary {
            output_dir: output_dir.clone(),
            labels: output.labels.clone(),
            epochs: epochs.clone(),
            best_epoch: best.map(|e| e.epoch),
            best_metric: config.best_metric.name().to_string(),
            best_value: best.map(|e| config.best_metric.value(&e.metrics)),
            steps: output.steps,
            seconds: output.seconds,
            cancelled: false,
            stopped_early: config.early_stopping_patience.is_some() && epochs.len() < config.epochs,
            device: device.clone(),
        };
        let recorded = (|| {
            copy_model(&model, &output_dir)?;
            ModelCard {
                base_model: output.base_model.clone(),
                max_length: config.max_length,
                labels: output.labels.clone(),
                text: Some(data.text.clone()),
                config: config.clone(),
                summary: Some(summary.clone()),
                int8: None,
                calibration: None,
                routing: None,
                multi_label: output.multi_label.then(|| MultiLabelCard {
                    thresholds: vec![0.5; output.labels.len()],
                    metrics: None,
                }),
            }
            .save(&output_dir)?;
            // What a trained run records first; the Trainer's precision and newly
            // initialised weights are not in its output.
            run.log(&TrainEvent::Started {
                model: output.base_model.clone(),
                device,
                labels: output.labels.clone(),
                train_rows: rows.train.len(),
                validation_rows: validation.len(),
                epochs: config.epochs,
                steps_per_epoch,
                total_steps,
                max_length: config.max_length,
                truncated_rows,
                newly_initialised: Vec::new(),
                precision: String::new(),
                multi_label: output.multi_label,
            })?;
            for (e, step) in epochs.iter().zip(output.epochs.iter().map(|e| e.step)) {
                run.log(&TrainEvent::Evaluated {
                    epoch: e.epoch,
                    step,
                    train_loss: e.train_loss,
                    eval_loss: e.eval_loss,
                    samples_per_second: e.samples_per_second,
                    metrics: e.metrics.clone(),
                })?;
            }
            if let Some(best) = best {
                run.log(&TrainEvent::CheckpointSaved {
                    epoch: best.epoch,
                    metric: summary.best_metric.clone(),
                    value: config.best_metric.value(&best.metrics),
                    path: output_dir.clone(),
                })?;
            }
            for event in output.finish_model(&output_dir, &validation)? {
                run.log(&event)?;
            }
            run.log(&TrainEvent::Finished {
                summary: summary.clone(),
            })
        })();
        if let Err(e) = recorded {
            let _ = run.log(&TrainEvent::Failed {
                message: format!("import failed: {e}"),
            });
            return Err(e);
        }
        Ok(run.id().to_string())
    }
}

/// Training texts of `rows` longer than `max_length` tokens of the tokenizer in `model`
/// (the job cuts them, as a trained run does).
fn truncated_rows(model: &Path, max_length: usize, rows: &[Example]) -> Result<usize> {
    let texts: Vec<String> = rows.iter().map(|e| e.text.clone()).collect();
    let encoded = TextEncoder::load(model, max_length)?.encode(&texts)?;
    Ok(encoded.iter().filter(|e| e.truncated).count())
}

impl TrainerOutput {
    /// The job's plan as the run records it: (steps per epoch, total steps). A job cut
    /// short by `--max-steps` trained those steps as its evaluations' epochs, so
    /// `config.epochs` becomes the number of evaluations it holds; by epochs, the Trainer
    /// evaluated at the end of each epoch, so the first evaluation's step is one epoch.
    fn plan(&self, config: &mut TrainConfig) -> (usize, usize) {
        if self.max_steps > 0 && !self.epochs.is_empty() {
            config.epochs = self.epochs.len();
            let per_epoch = self.steps.div_ceil(self.epochs.len());
            return (per_epoch, self.steps);
        }
        let per_epoch = self.epochs.first().map_or(self.steps, |e| e.step);
        (per_epoch, per_epoch * config.epochs)
    }

    /// Each evaluation scored with the engine's metrics on the recorded classes.
    fn scored_epochs(&self, path: &Path) -> Result<Vec<EpochRecord>> {
        let classes = self.labels.len();
        let bad = |what: String| EngineError::data(path, what);
        if classes == 0 {
            return Err(bad("lists no classes".into()));
        }
        let out_of_range = |rows: &[Vec<usize>]| rows.iter().flatten().any(|&c| c >= classes);
        if out_of_range(&self.truth) {
            return Err(bad(format!("names a class beyond its {classes} labels")));
        }
        self.epochs
            .iter()
            .map(|e| {
                if e.predicted.len() != self.truth.len() || out_of_range(&e.predicted) {
                    return Err(bad(format!(
                        "epoch {}: {} predictions for {} validation rows, or a class beyond \
                         the {classes} labels",
                        e.epoch,
                        e.predicted.len(),
                        self.truth.len()
                    )));
                }
                let metrics = if self.multi_label {
                    Metrics::of_label_sets(
                        &self.labels,
                        &self.flags(&self.truth),
                        &self.flags(&e.predicted),
                        &vec![0.5; classes],
                    )
                } else {
                    let first = |rows: &[Vec<usize>]| -> Result<Vec<usize>> {
                        rows.iter()
                            .map(|r| match r.as_slice() {
                                [c] => Ok(*c),
                                _ => Err(bad(format!(
                                    "epoch {}: a single-label row with {} classes",
                                    e.epoch,
                                    r.len()
                                ))),
                            })
                            .collect()
                    };
                    Metrics::compute(&self.labels, &first(&self.truth)?, &first(&e.predicted)?)
                };
                Ok(EpochRecord {
                    epoch: e.epoch,
                    train_loss: e.train_loss,
                    eval_loss: e.eval_loss,
                    metrics,
                    seconds: e.seconds,
                    samples_per_second: e.samples_per_second,
                })
            })
            .collect()
    }

    /// Refuse a job's `model` folder whose classes or head are not the result's.
    fn check_model(&self, model: &Path) -> Result<()> {
        let (labels, multi_label) = read_head(model)?;
        if labels == self.labels && multi_label == self.multi_label {
            return Ok(());
        }
        let kind = |multi: bool| if multi { "multi-label" } else { "single-label" };
        Err(EngineError::data(
            model.join("config.json"),
            format!(
                "the job's model is {} with the labels {labels:?}, its result names {} labels \
                 {:?}: import the output folder of one job as train.py wrote it",
                kind(multi_label),
                kind(self.multi_label),
                self.labels
            ),
        ))
    }

    /// Rows of class indices as one flag per label.
    fn flags(&self, rows: &[Vec<usize>]) -> Vec<Vec<bool>> {
        rows.iter()
            .map(|r| (0..self.labels.len()).map(|c| r.contains(&c)).collect())
            .collect()
    }

    /// Finish the job's model in `dir` as training finishes its best model, on the
    /// `validation` rows (in f32 on the CPU): a single-label model gets its int8 check
    /// and its fitted temperature, a multi-label one each label's tuned threshold, in
    /// its card; returns the events a trained run logs for them.
    fn finish_model(&self, dir: &Path, validation: &[Example]) -> Result<Vec<TrainEvent>> {
        let predictor =
            Predictor::load_with(dir, DeviceChoice::Cpu, Some(PredictionPrecision::F32))?;
        if validation.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = validation.iter().map(|e| e.text.clone()).collect();
        let encoded = predictor.encode(&texts)?;
        let logits = predictor.logits(&encoded)?;
        if self.multi_label {
            let card = MultiLabelCard::tuned(&self.labels, &logits, &self.flags(&self.truth));
            ModelCard::record_multi_label(dir, &card)?;
            return Ok(card
                .metrics
                .map(|metrics| TrainEvent::ThresholdsTuned { metrics })
                .into_iter()
                .collect());
        }
        // Single-label rows hold one class each (`scored_epochs` refused others).
        let truth: Vec<usize> = self
            .truth
            .iter()
            .filter_map(|r| r.first().copied())
            .collect();
        let check = crate::quantize::measure(
            dir,
            predictor.encoder(),
            &encoded,
            &truth,
            "validation split",
            Some(&logits),
        )?;
        ModelCard::record_int8(dir, &check)?;
        let calibration = calibrate(&logits, &truth);
        ModelCard::record_calibration(dir, &calibration)?;
        Ok(vec![
            TrainEvent::Int8Checked { check },
            TrainEvent::Calibrated { calibration },
        ])
    }

    /// Refuse when the data file's validation rows are not the ones the job scored.
    fn check_rows(&self, data: &Path, validation: &[Example]) -> Result<()> {
        let truth: Vec<Vec<String>> = self
            .truth
            .iter()
            .map(|r| r.iter().map(|&c| self.labels[c].clone()).collect())
            .collect();
        let now: Vec<Vec<String>> = validation
            .iter()
            .map(|e| e.labels.clone().unwrap_or_else(|| vec![e.label.clone()]))
            .collect();
        if truth == now {
            Ok(())
        } else {
            Err(EngineError::DataChanged {
                path: data.to_path_buf(),
                message: format!(
                    "the data no longer holds the {} validation rows the job was scored on \
                     ({} now, or other classes): import it where its data file is unchanged",
                    truth.len(),
                    now.len()
                ),
            })
        }
    }
}
