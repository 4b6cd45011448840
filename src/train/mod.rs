//! Fine-tuning: the transformers Trainer recipe (AdamW with parameter groups, linear
//! decay, clipping, dropout, evaluation each epoch, best checkpoint kept) in candle.

mod batching;
mod config;
mod data;
mod events;
pub mod optim;

pub use config::{BestMetric, TrainConfig};
pub use data::{DataSpec, LoadedData};
pub use events::{EpochRecord, RunSummary, TrainEvent};

use crate::dataset::{Example, LabeledData};
use crate::device::device_name;
use crate::error::{EngineError, Result};
use crate::metrics::Metrics;
use crate::model::layers::{DropoutRng, Mode};
use crate::model::resolve::resolve_model;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::{Batch, SequenceClassifier};
use crate::predict::{batched_logits, ModelCard};
use candle_core::{Device, Tensor};
use optim::{linear_lr, AdamW};
use rand::{rngs::StdRng, SeedableRng};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The rows to train and validate on, and the class list (index = model output).
#[derive(Debug, Clone)]
pub struct TrainData {
    pub train: Vec<Example>,
    pub validation: Vec<Example>,
    pub labels: Vec<String>,
}

/// Runs fine-tuning jobs.
pub struct Trainer;

struct Prepared {
    model: SequenceClassifier,
    encoder: TextEncoder,
    train: Vec<Encoded>,
    train_labels: Vec<u32>,
    validation: Vec<Encoded>,
    validation_labels: Vec<usize>,
    truncated_rows: usize,
}

impl Trainer {
    /// Fine-tune `config.model` on `data`, reporting progress through `on_event`.
    /// Setting `cancel` stops within one step; the best model saved so far stays.
    /// Errors are also reported as a `Failed` event.
    pub fn run(
        config: &TrainConfig,
        data: &TrainData,
        mut on_event: impl FnMut(&TrainEvent),
        cancel: &AtomicBool,
    ) -> Result<RunSummary> {
        let result = run_inner(config, data, &mut on_event, cancel);
        if let Err(e) = &result {
            on_event(&TrainEvent::Failed {
                message: e.to_string(),
            });
        }
        result
    }
}

fn prepare(config: &TrainConfig, data: &TrainData, device: &Device) -> Result<Prepared> {
    config.validate()?;
    if data.labels.len() < 2 {
        return Err(EngineError::Config(format!(
            "training needs at least 2 classes, the data has {}",
            data.labels.len()
        )));
    }
    if data.train.is_empty() || data.validation.is_empty() {
        return Err(EngineError::Config(
            "training and validation sets must both have rows".into(),
        ));
    }
    let train_labels = LabeledData::label_indices(&data.train, &data.labels).ok_or_else(|| {
        EngineError::Config("a training row has a label outside the class list".into())
    })?;
    let validation_labels =
        LabeledData::label_indices(&data.validation, &data.labels).ok_or_else(|| {
            EngineError::Config(
                "a validation row has a label the training classes do not include".into(),
            )
        })?;
    let dir = resolve_model(&config.model)?;
    let model = SequenceClassifier::load(&dir, Some(data.labels.clone()), device, config.seed)?;
    let max_length = config.max_length.min(model.max_positions());
    let encoder = TextEncoder::load(&dir, max_length)?;
    let texts = |rows: &[Example]| rows.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
    let train = encoder.encode(&texts(&data.train))?;
    Ok(Prepared {
        truncated_rows: train.iter().filter(|e| e.truncated).count(),
        train,
        validation: encoder.encode(&texts(&data.validation))?,
        train_labels: train_labels.into_iter().map(|i| i as u32).collect(),
        validation_labels,
        model,
        encoder,
    })
}

fn run_inner(
    config: &TrainConfig,
    data: &TrainData,
    on_event: &mut dyn FnMut(&TrainEvent),
    cancel: &AtomicBool,
) -> Result<RunSummary> {
    let started = Instant::now();
    let device = config.device.open()?;
    // GPUs draw dropout masks from their own generator; CPUs use DropoutRng's.
    let _ = device.set_seed(config.seed);
    let p = prepare(config, data, &device)?;
    let steps_per_epoch = p.train.len().div_ceil(config.batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let device_label = device_name(&device);
    on_event(&TrainEvent::Started {
        model: config.model.clone(),
        device: device_label.clone(),
        labels: data.labels.clone(),
        train_rows: p.train.len(),
        validation_rows: p.validation.len(),
        epochs: config.epochs,
        steps_per_epoch,
        total_steps,
        max_length: p.encoder.max_length(),
        truncated_rows: p.truncated_rows,
        newly_initialised: p.model.newly_initialised().to_vec(),
    });

    let mut summary = RunSummary {
        output_dir: config.output_dir.clone(),
        labels: data.labels.clone(),
        epochs: Vec::new(),
        best_epoch: None,
        best_metric: config.best_metric.name().into(),
        best_value: None,
        steps: 0,
        seconds: 0.0,
        cancelled: false,
        stopped_early: false,
        device: device_label,
    };
    let mut optimizer = AdamW::new(p.model.vars(), config.weight_decay)?;
    let dropout = DropoutRng::new(config.seed);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let lengths: Vec<usize> = p.train.iter().map(|e| e.ids.len()).collect();
    let mut since_best = 0;

    'epochs: for epoch in 1..=config.epochs {
        let epoch_start = Instant::now();
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        for batch_rows in batching::epoch_batches(
            &lengths,
            config.batch_size,
            config.group_by_length,
            &mut rng,
        ) {
            if cancel.load(Ordering::Relaxed) {
                summary.cancelled = true;
                break 'epochs;
            }
            let step_start = Instant::now();
            let lr = linear_lr(
                config.learning_rate,
                summary.steps,
                config.warmup_steps,
                total_steps,
            );
            let items: Vec<&Encoded> = batch_rows.iter().map(|&i| &p.train[i]).collect();
            let labels: Vec<u32> = batch_rows.iter().map(|&i| p.train_labels[i]).collect();
            let batch = p.encoder.collate(&items, &device)?;
            let targets = Tensor::from_vec(labels, batch_rows.len(), &device)?;
            summary.steps += 1;
            let (loss_value, norm_value) = train_step(
                &p.model,
                &mut optimizer,
                &batch,
                &targets,
                lr,
                config.max_grad_norm,
                &Mode::Train(&dropout),
                summary.steps,
            )?;
            loss_sum += loss_value as f64 * batch_rows.len() as f64;
            seen += batch_rows.len();
            on_event(&TrainEvent::Step {
                epoch,
                step: summary.steps,
                total_steps,
                loss: loss_value as f64,
                learning_rate: lr,
                grad_norm: norm_value as f64,
                samples_per_second: batch_rows.len() as f64
                    / step_start.elapsed().as_secs_f64().max(1e-9),
            });
        }
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        let Some((eval_loss, metrics)) = evaluate(&p, config.eval_batch_size, cancel)? else {
            summary.cancelled = true;
            break;
        };
        let value = match config.best_metric {
            BestMetric::Accuracy => metrics.accuracy,
            BestMetric::MacroF1 => metrics.macro_f1,
        };
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            eval_loss,
            metrics,
            seconds: epoch_start.elapsed().as_secs_f64(),
            samples_per_second: seen as f64 / train_seconds.max(1e-9),
        };
        on_event(&TrainEvent::Evaluated {
            epoch,
            step: summary.steps,
            train_loss: record.train_loss,
            eval_loss,
            samples_per_second: record.samples_per_second,
            metrics: record.metrics.clone(),
        });
        summary.epochs.push(record);
        if summary.best_value.is_none_or(|best| value > best) {
            summary.best_value = Some(value);
            summary.best_epoch = Some(epoch);
            since_best = 0;
            summary.seconds = started.elapsed().as_secs_f64();
            save_best(&p, config, &summary)?;
            on_event(&TrainEvent::CheckpointSaved {
                epoch,
                metric: config.best_metric.name().into(),
                value,
                path: config.output_dir.clone(),
            });
        } else {
            since_best += 1;
            if config
                .early_stopping_patience
                .is_some_and(|patience| since_best >= patience)
            {
                summary.stopped_early = true;
                break;
            }
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    if summary.cancelled {
        on_event(&TrainEvent::Cancelled {
            step: summary.steps,
            summary: summary.clone(),
        });
    } else {
        on_event(&TrainEvent::Finished {
            summary: summary.clone(),
        });
    }
    Ok(summary)
}

/// One optimisation step as transformers' Trainer takes it: forward, mean
/// cross-entropy, backward, clip to `max_grad_norm`, AdamW update at `lr`. Returns the
/// loss and the gradient norm before clipping. A non-finite loss is an error (and no
/// update is applied); `step` (1-based) is only used in that message.
#[allow(clippy::too_many_arguments)]
pub fn train_step(
    model: &SequenceClassifier,
    optimizer: &mut AdamW,
    batch: &Batch,
    targets: &Tensor,
    lr: f64,
    max_grad_norm: f64,
    mode: &Mode,
    step: usize,
) -> Result<(f32, f32)> {
    let device = model.device();
    let logits = model.forward(batch, mode).map_err(oom(device))?;
    let loss = candle_nn::loss::cross_entropy(&logits, targets)?;
    let grads = loss.backward().map_err(|e| oom(device)(e.into()))?;
    let norm = optimizer.grad_norm(&grads)?;
    let host = Tensor::stack(&[loss, norm.clone()], 0)?.to_vec1::<f32>()?;
    if !host[0].is_finite() {
        return Err(EngineError::Diverged {
            step,
            loss: host[0],
        });
    }
    optimizer.step(&grads, &norm, max_grad_norm, lr)?;
    Ok((host[0], host[1]))
}

/// Validation loss and metrics; `None` when cancelled midway.
fn evaluate(
    p: &Prepared,
    batch_size: usize,
    cancel: &AtomicBool,
) -> Result<Option<(f64, Metrics)>> {
    let Some(logits) = batched_logits(
        &p.model,
        &p.encoder,
        &p.validation,
        batch_size,
        Some(cancel),
    )?
    else {
        return Ok(None);
    };
    let mut loss = 0.0;
    let mut predicted = Vec::with_capacity(logits.len());
    for (row, &truth) in logits.iter().zip(&p.validation_labels) {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let log_sum = row.iter().map(|v| (v - max).exp()).sum::<f32>().ln() + max;
        loss += (log_sum - row[truth]) as f64;
        predicted.push(crate::predict::argmax(row));
    }
    let metrics = Metrics::compute(p.model.labels(), &p.validation_labels, &predicted);
    Ok(Some((loss / logits.len().max(1) as f64, metrics)))
}

fn save_best(p: &Prepared, config: &TrainConfig, summary: &RunSummary) -> Result<()> {
    let dir: &Path = &config.output_dir;
    p.model.save(dir)?;
    p.encoder.save(dir)?;
    ModelCard {
        base_model: config.model.clone(),
        max_length: p.encoder.max_length(),
        labels: summary.labels.clone(),
        config: config.clone(),
        summary: Some(summary.clone()),
    }
    .save(dir)
}

/// Turn a tensor error that is really an out-of-memory condition into a clear message.
fn oom(device: &Device) -> impl Fn(EngineError) -> EngineError + '_ {
    move |e| {
        let text = e.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("out of memory") || lower.contains("out_of_memory") {
            EngineError::OutOfMemory {
                device: device_name(device),
                message: text,
            }
        } else {
            e
        }
    }
}
