//! How long a run will take and whether it fits in memory, before it starts: from a
//! short measurement on this machine (a few real training steps on rows of the data,
//! see [`measure`]), kept per device, model and precision and reused for other data,
//! rows, epochs and lengths, and the data's own token counts. The run's batches are
//! drawn as training draws them and each is costed by its work ([`cost`]); evaluation
//! per epoch, saving, and the CPU's end-of-run int8 check are added. And the largest
//! preset (or a shortened one) that fits in a given time ([`fit`]).
//!
//! One call: [`estimate`]. Or measure once ([`Calibration::measure`]) and estimate
//! other settings of the same model, device and precision from it without measuring
//! again ([`Calibration::estimate`], [`Calibration::fit_within`]).

mod cache;
mod cost;
mod fit;
mod measure;
mod memory;

pub use fit::FitSuggestion;

use super::baseline::{fit_softmax, FIT_STEPS, PENALTIES};
use super::DataSpec;
use crate::dataset::TextSpec;
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::model::resolve::resolve_model;
use crate::model::tokenize::TextEncoder;
use crate::predict::PREDICT_BATCH;
use crate::settings::{Method, Precision, SplitPlan, TrainConfig};
use candle_core::{Device, Tensor};
use cost::{epoch_steps, mean_step_work};
use measure::{Measured, Rows, Target};
use rand::{
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
    SeedableRng,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The file the app and the CLI keep measurements in, beside the run store's folder:
/// `RunStore::root().with_file_name(ESTIMATES_FILE)` (`$DIALECT_HOME/estimates.json`).
pub const ESTIMATES_FILE: &str = "estimates.json";

/// Rows whose tokens are counted; larger data is estimated from a random sample.
const COUNTED_ROWS: usize = 20_000;
/// Rows the baseline's head fit is timed on (its cost grows with the rows).
const HEAD_PROBE_ROWS: usize = 20_000;
/// Head-fit steps timed, after one untimed.
const HEAD_PROBE_STEPS: usize = 4;
/// A run fits in memory when its peak is at most this share of what is available.
const MEMORY_HEADROOM: f64 = 0.9;

/// What to estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct EstimateRequest {
    /// The run's settings (omitted ones take the recipe's defaults).
    #[serde(default)]
    pub config: TrainConfig,
    pub data: DataSpec,
    /// Also suggest the largest preset (or a shortened one) that fits in this many
    /// minutes.
    #[serde(default)]
    pub fit_minutes: Option<f64>,
    /// Measure again even when this machine has a measurement of the model.
    #[serde(default)]
    pub remeasure: bool,
}

/// An estimate, and what fits in the time asked for.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct EstimateReport {
    pub estimate: TrainingEstimate,
    /// Present when the request asked for a time to fit in.
    pub fit: Option<FitSuggestion>,
}

/// How long a run will take, and the memory it will need.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TrainingEstimate {
    /// Seconds from Start to the end of the run, every epoch included.
    pub seconds: f64,
    pub breakdown: Breakdown,
    pub method: Method,
    pub epochs: usize,
    /// Optimisation steps (the baseline: batches encoded).
    pub steps: usize,
    /// Mean seconds of one training step (the baseline: of one batch encoded).
    pub step_seconds: f64,
    pub train_rows: usize,
    pub validation_rows: usize,
    pub batch_size: usize,
    /// Tokens kept per text (the setting, capped at the model's positions).
    pub max_length: usize,
    /// Early stopping may end the run before its last epoch (the estimate counts them
    /// all).
    pub may_stop_early: bool,
    pub memory: MemoryEstimate,
    pub measurement: MeasurementInfo,
}

/// Where the seconds go.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// Reading and checking the data file (measured now).
    pub reading: f64,
    /// Loading the model.
    pub loading: f64,
    /// Tokenising the rows.
    pub tokenising: f64,
    /// Training steps (the baseline: encoding every row and fitting the head).
    pub training: f64,
    /// Scoring the validation rows after each epoch.
    pub evaluation: f64,
    /// Writing the best model and the checkpoints.
    pub saving: f64,
    /// The end-of-run int8 check on the CPU.
    pub checks: f64,
}

impl Breakdown {
    fn total(&self) -> f64 {
        self.reading
            + self.loading
            + self.tokenising
            + self.training
            + self.evaluation
            + self.saving
            + self.checks
    }
}

/// The memory a run needs at its peak against what the device has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct MemoryEstimate {
    /// Bytes the run adds at its peak: weights, gradients, AdamW's moments and the
    /// heaviest batch's activations (fine-tune); weights, features and the heaviest
    /// batch (baseline); on the CPU, the end-of-run check's copies of the model.
    /// `None` where the measurement could not read memory in use.
    pub peak_bytes: Option<u64>,
    /// Bytes available when estimated: the system's available memory (CPU, Linux),
    /// the GPU's free memory (CUDA); `None` where not reported.
    pub available_bytes: Option<u64>,
    /// Whether the peak is within 90% of what is available; `None`: unknown.
    pub fits: Option<bool>,
}

/// The measurement an estimate comes from.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct MeasurementInfo {
    /// The hardware measured on.
    pub device: String,
    pub model: String,
    /// The compute precision ("f32", "bf16").
    pub precision: String,
    /// When it was measured, in seconds since the Unix epoch.
    pub measured_at: u64,
    /// Reused from an earlier estimate (otherwise measured now).
    pub reused: bool,
    /// Seconds the measurement took.
    pub seconds: f64,
    /// The run's steps are heavier or lighter than the measured ones by more than half
    /// again (other lengths or batch size): the estimate is less sure (measure again
    /// with these settings to be sure).
    pub extrapolated: bool,
    /// The CPUs' load average per core when measuring began (Linux): above 0.5, other
    /// work was competing for the cores and the estimate runs long if it has stopped.
    pub load_per_core: Option<f64>,
}

/// Estimate `request` (and what fits in its time), measuring on this machine unless
/// `cache` (a JSON file, [`ESTIMATES_FILE`]) holds a measurement of the model on this
/// device in this precision on steps like this run's. `None` if `cancel` was set.
pub fn estimate(
    request: &EstimateRequest,
    cache: Option<&Path>,
    cancel: &AtomicBool,
) -> Result<Option<EstimateReport>> {
    let Some(calibration) = Calibration::measure(
        &request.config,
        &request.data,
        cache,
        request.remeasure,
        cancel,
    )?
    else {
        return Ok(None);
    };
    let split = &request.data.split;
    let estimate = calibration.estimate(&request.config, split)?;
    let fit = request
        .fit_minutes
        .map(|minutes| calibration.fit_within(minutes, &request.config))
        .transpose()?;
    Ok(Some(EstimateReport { estimate, fit }))
}

/// A measurement of one model on one device in one precision, with the token counts of
/// one data file: estimates of any settings that keep the model, device and precision
/// come from it without measuring again.
pub struct Calibration {
    measured: Measured,
    reused: bool,
    model: String,
    device: DeviceChoice,
    precision: Precision,
    cpu: bool,
    data: DataProfile,
    available_bytes: Option<u64>,
}

/// What an estimate needs to know of the data.
struct DataProfile {
    /// Token counts (untruncated) of the training rows in their order, or of a random
    /// sample of them.
    train: Vec<usize>,
    validation: Vec<usize>,
    train_rows: usize,
    validation_rows: usize,
    /// The validation rows come from a file of their own.
    validation_file: bool,
    /// The split the rows were read with (all rows).
    split: SplitPlan,
    classes: usize,
    reading_seconds: f64,
    /// Host memory reading and checking the file took (0 where unknown).
    reading_bytes: u64,
    tokenising_seconds_per_row: f64,
    /// One full-batch step of the baseline's head fit, per training row.
    head_step_seconds_per_row: f64,
}

impl Calibration {
    /// Read `data` as a run does (all rows: a row cap is applied per estimate), count
    /// its tokens, and measure `config`'s model on its device, or reuse a measurement
    /// kept in `cache` (unless `remeasure`) whose timed steps were like this run's
    /// (within half again of their work: see [`MeasurementInfo::extrapolated`]). A new
    /// measurement is added to `cache`. `None` if `cancel` was set.
    pub fn measure(
        config: &TrainConfig,
        data: &DataSpec,
        cache: Option<&Path>,
        remeasure: bool,
        cancel: &AtomicBool,
    ) -> Result<Option<Self>> {
        config.validate()?;
        let (loaded, reading_seconds, reading_bytes) = read_data(data)?;
        let target = Target::open(config)?;
        // Texts as training composes them: personal data the spec scrubs removed.
        let spec = loaded
            .text
            .clone()
            .unwrap_or_else(|| TextSpec::columns(Vec::new()));
        let total = loaded.train.len() + loaded.validation.len();
        let share = |n: usize| (n * COUNTED_ROWS).div_ceil(total).min(n);
        let mut rng = StdRng::seed_from_u64(config.seed);
        let train_texts = sample_texts(&loaded.train, share(loaded.train.len()), &spec, &mut rng);
        let val_texts = sample_texts(
            &loaded.validation,
            share(loaded.validation.len()),
            &spec,
            &mut rng,
        );
        let tokenising = Instant::now();
        let counter = TextEncoder::load(&resolve_model(&config.model)?, config.max_length)?;
        let train_counts = counter.token_counts(&train_texts)?;
        let val_counts = counter.token_counts(&val_texts)?;
        let tokenising_seconds_per_row = tokenising.elapsed().as_secs_f64()
            / (train_texts.len() + val_texts.len()).max(1) as f64;
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        // A kept measurement serves when its timed steps were like this run's.
        let step_work = |m: &Measured| {
            let length = config.max_length.min(m.max_positions);
            let lengths: Vec<usize> = train_counts.iter().map(|&c| c.min(length)).collect();
            let packed = target.device.is_cpu();
            let (batch, group) = (config.batch_size, config.group_by_length);
            mean_step_work(&m.work(), &lengths, batch, group, packed, config.seed)
        };
        let cached = cache
            .filter(|_| !remeasure)
            .and_then(|path| cache::find(path, &target.key, |m| m.covers(step_work(m))));
        let reused = cached.is_some();
        let measured = match cached {
            Some(measured) => measured,
            None => {
                let rows = Rows {
                    texts: &train_texts,
                    counts: &train_counts,
                };
                let labels = &loaded.labels;
                let Some(measured) =
                    measure_and_keep(config, &target, labels, &rows, &val_texts, cache, cancel)?
                else {
                    return Ok(None);
                };
                measured
            }
        };
        let Some(head_step_seconds_per_row) = time_head_fit(
            loaded.train.len().min(HEAD_PROBE_ROWS),
            measured.hidden,
            loaded.labels.len(),
            cancel,
        )?
        else {
            return Ok(None);
        };
        crate::allocator::release();
        let available_bytes = memory::available(&target.device);
        Ok(Some(Self {
            reused,
            model: config.model.clone(),
            device: config.device,
            precision: config.precision,
            cpu: target.device.is_cpu(),
            available_bytes,
            data: DataProfile {
                train: train_counts,
                validation: val_counts,
                train_rows: loaded.train.len(),
                validation_rows: loaded.validation.len(),
                validation_file: data.validation.is_some(),
                split: SplitPlan {
                    max_rows: None,
                    ..data.split
                },
                classes: loaded.labels.len(),
                reading_seconds,
                reading_bytes,
                tokenising_seconds_per_row,
                head_step_seconds_per_row,
            },
            measured,
        }))
    }

    /// Estimate a run of `config` on the measured data split by `split`. The model,
    /// device and precision must be the measured ones; other settings are free. Rows
    /// are the measured data's exactly when `split` is the measured one without a row
    /// cap; otherwise (a cap, another share or seed) rows of the same length
    /// distribution, in the counts the split gives.
    pub fn estimate(&self, config: &TrainConfig, split: &SplitPlan) -> Result<TrainingEstimate> {
        config.validate()?;
        split.validate()?;
        if config.model != self.model
            || config.device != self.device
            || config.precision != self.precision
        {
            return Err(EngineError::Config(format!(
                "this measurement is of {} on {} in {}: measure again for another model, \
                 device or precision",
                self.model,
                self.device.name(),
                self.precision.name()
            )));
        }
        let m = &self.measured;
        let max_length = config.max_length.min(m.max_positions);
        let (train, validation) = self.data.rows(split);
        let cut = |counts: Vec<usize>| -> Vec<usize> {
            counts.into_iter().map(|c| c.min(max_length)).collect()
        };
        let (train, validation) = (cut(train), cut(validation));
        let work = m.work();
        let epochs = match config.method {
            Method::FineTune => config.epochs,
            Method::Baseline => 1,
        };
        let model_bytes = (m.params * 4) as f64;
        let mut breakdown = Breakdown {
            reading: self.data.reading_seconds,
            loading: m.load_seconds,
            tokenising: self.data.tokenising_seconds_per_row
                * (train.len() + validation.len()) as f64,
            ..Breakdown::default()
        };
        // Memory beyond the weights: a training batch's activations and gradients, an
        // inference batch's activations, the int8 check's f32 and int8 copies of the
        // model (on the CPU), each with the tokenised rows (ids and type ids) and, on
        // the CPU, what reading the data took.
        let data_bytes = 8.0 * train.iter().chain(&validation).sum::<usize>() as f64
            + if self.cpu {
                self.data.reading_bytes as f64
            } else {
                0.0
            };
        let activations = |work: f64| m.activation_bytes_per_work.map(|per| per * work);
        let inference = |work: f64| m.inference_bytes_per_work.map(|per| per * work);
        let (_, heaviest_inference) = work.sorted_batches(
            &validation,
            config.eval_batch_size.max(PREDICT_BATCH),
            false,
        );
        let check = if self.cpu { 1.25 * model_bytes } else { 0.0 };
        let (steps, step_seconds, peak) = match config.method {
            Method::FineTune => {
                let (per_epoch, seconds, heaviest) = epoch_steps(
                    &m.train,
                    &work,
                    &train,
                    config.batch_size,
                    config.group_by_length,
                    self.cpu,
                    config.seed,
                );
                breakdown.training = seconds * epochs as f64;
                let (val_work, _) =
                    work.sorted_batches(&validation, config.eval_batch_size, self.cpu);
                breakdown.evaluation = m.eval_per_work * val_work * epochs as f64;
                // The best model each epoch (at most); a checkpoint (weights and both
                // moments) after each epoch but the last, except under the fused CUDA
                // optimiser, which keeps its moments on the GPU.
                let checkpoints = if self.cpu { epochs - 1 } else { 0 };
                breakdown.saving =
                    m.save_seconds_per_byte * model_bytes * (epochs + 3 * checkpoints) as f64;
                breakdown.checks = m.int8.map_or(0.0, |q| {
                    m.load_seconds + q.quantize_seconds + q.per_work * val_work
                });
                // Training: weights, gradients and both moments; evaluation and the
                // check: weights and moments.
                let peak = activations(heaviest)
                    .zip(inference(heaviest_inference))
                    .map(|(a, i)| {
                        (4.0 * model_bytes + a).max(3.0 * model_bytes + check + i) + data_bytes
                    });
                let steps = per_epoch * epochs;
                (steps, breakdown.training / steps.max(1) as f64, peak)
            }
            Method::Baseline => {
                let rows: Vec<usize> = train.iter().chain(&validation).copied().collect();
                let (encode_work, heaviest) =
                    work.sorted_batches(&rows, config.eval_batch_size, false);
                let head_steps = (PENALTIES.len() * FIT_STEPS) as f64;
                let encoding = m.encode_per_work * encode_work;
                breakdown.training = encoding
                    + head_steps * self.data.head_step_seconds_per_row * train.len() as f64;
                let (val_work, _) = work.sorted_batches(&validation, config.eval_batch_size, false);
                breakdown.evaluation = m.encode_per_work * val_work;
                breakdown.saving = m.save_seconds_per_byte * model_bytes;
                breakdown.checks = m.int8.map_or(0.0, |q| {
                    m.load_seconds + q.quantize_seconds + q.per_work * val_work
                });
                let features = 4.0 * (m.hidden * rows.len()) as f64;
                let peak =
                    inference(heaviest).map(|i| model_bytes + features + check + i + data_bytes);
                let batches = train.len().div_ceil(config.eval_batch_size)
                    + validation.len().div_ceil(config.eval_batch_size);
                (batches, encoding / batches.max(1) as f64, peak)
            }
        };
        let peak_bytes = peak.map(|p| p.round() as u64);
        let fits = peak_bytes
            .zip(self.available_bytes)
            .map(|(peak, free)| peak as f64 <= MEMORY_HEADROOM * free as f64);
        Ok(TrainingEstimate {
            seconds: breakdown.total(),
            breakdown,
            method: config.method,
            epochs,
            steps,
            step_seconds,
            train_rows: train.len(),
            validation_rows: validation.len(),
            batch_size: match config.method {
                Method::FineTune => config.batch_size,
                Method::Baseline => config.eval_batch_size,
            },
            max_length,
            may_stop_early: config.method == Method::FineTune
                && config
                    .early_stopping_patience
                    .is_some_and(|patience| patience < epochs),
            memory: MemoryEstimate {
                peak_bytes,
                available_bytes: self.available_bytes,
                fits,
            },
            measurement: MeasurementInfo {
                device: m.key.device.clone(),
                model: m.key.model.clone(),
                precision: m.key.precision.clone(),
                measured_at: m.measured_at,
                reused: self.reused,
                seconds: m.seconds,
                extrapolated: !m.covers(mean_step_work(
                    &work,
                    &train,
                    config.batch_size,
                    config.group_by_length,
                    self.cpu,
                    config.seed,
                )),
                load_per_core: m.load_per_core,
            },
        })
    }

    /// The largest preset whose run fits in `minutes` on the measured data (or the
    /// smallest fine-tune preset shortened: fewer rows, then a shorter max length; else
    /// the baseline, on fewer rows if need be), applied as the Train screen applies
    /// presets (their split included): `config`'s model, device, precision and head
    /// choice stay. When nothing fits, the quickest run tried, marked as not fitting.
    pub fn fit_within(&self, minutes: f64, config: &TrainConfig) -> Result<FitSuggestion> {
        fit::fit_within(self, minutes, config)
    }

    /// The number of rows (training and validation) a split of the measured data uses.
    fn total_rows(&self, split: &SplitPlan) -> usize {
        let (train, validation) = self.data.sizes(split);
        train + validation
    }

    /// The number of classes in the data.
    fn classes(&self) -> usize {
        self.data.classes
    }
}

impl DataProfile {
    /// The numbers of training and validation rows `split` gives.
    fn sizes(&self, split: &SplitPlan) -> (usize, usize) {
        if self.validation_file {
            let train = split
                .max_rows
                .map_or(self.train_rows, |cap| cap.min(self.train_rows));
            return (train, self.validation_rows);
        }
        let all = self.train_rows + self.validation_rows;
        let total = split.max_rows.map_or(all, |cap| cap.min(all));
        if total == all
            && split.validation_fraction == self.split.validation_fraction
            && split.seed == self.split.seed
        {
            return (self.train_rows, self.validation_rows);
        }
        let validation = ((total as f64 * split.validation_fraction).round() as usize)
            .clamp(1, total.saturating_sub(1).max(1));
        (total.saturating_sub(validation), validation)
    }

    /// Token counts of the training and validation rows `split` gives (see
    /// [`Calibration::estimate`]).
    fn rows(&self, split: &SplitPlan) -> (Vec<usize>, Vec<usize>) {
        let (train, validation) = self.sizes(split);
        let same_split = self.validation_file
            || (split.validation_fraction == self.split.validation_fraction
                && split.seed == self.split.seed);
        if same_split {
            return (
                repeated(&self.train, train),
                repeated(&self.validation, validation),
            );
        }
        let mut pool: Vec<usize> = self.train.iter().chain(&self.validation).copied().collect();
        pool.shuffle(&mut StdRng::seed_from_u64(split.seed));
        let mut rows = repeated(&pool, train + validation);
        let held_out = rows.split_off(train);
        (rows, held_out)
    }
}

/// Read and check `data` as a run does, with all its rows (a row cap is applied per
/// estimate): the data, the seconds it took and the host memory it took (the
/// allocator keeps what it freed, so the reading's peak shows; 0 where unknown).
fn read_data(data: &DataSpec) -> Result<(super::TrainData, f64, u64)> {
    let start = Instant::now();
    crate::allocator::release();
    let held = memory::in_use(&Device::Cpu);
    let all_rows = DataSpec {
        split: SplitPlan {
            max_rows: None,
            ..data.split
        },
        ..data.clone()
    };
    let loaded = all_rows.load(true)?.data;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = held
        .zip(memory::in_use(&Device::Cpu))
        .map_or(0, |(before, after)| after.saturating_sub(before));
    if loaded.train.is_empty() || loaded.validation.is_empty() {
        return Err(EngineError::Config(
            "training and validation sets must both have rows".into(),
        ));
    }
    Ok((loaded, seconds, bytes))
}

/// Measure on `target` (see [`measure::measure`]), writing the weights once beside
/// `cache` (or in the temporary folder), and keep the measurement in `cache`.
fn measure_and_keep(
    config: &TrainConfig,
    target: &Target,
    labels: &[String],
    rows: &Rows,
    validation: &[String],
    cache: Option<&Path>,
    cancel: &AtomicBool,
) -> Result<Option<Measured>> {
    let scratch = cache
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    std::fs::create_dir_all(&scratch).map_err(|e| EngineError::io(&scratch, e))?;
    let measured = measure::measure(config, target, labels, rows, validation, &scratch, cancel)?;
    if let (Some(path), Some(measured)) = (cache, &measured) {
        cache::store(path, measured)?;
    }
    Ok(measured)
}

/// `n` values: `values` in order, repeated as often as needed (a sample standing for
/// more rows; a prefix of the rows when fewer are used).
fn repeated(values: &[usize], n: usize) -> Vec<usize> {
    values.iter().copied().cycle().take(n).collect()
}

/// The cleaned texts of `n` rows of `rows`: all of them in order, or a random sample.
fn sample_texts(
    rows: &[crate::dataset::Example],
    n: usize,
    spec: &TextSpec,
    rng: &mut StdRng,
) -> Vec<String> {
    let clean = |e: &crate::dataset::Example| spec.clean(&e.text).into_owned();
    if n >= rows.len() {
        return rows.iter().map(clean).collect();
    }
    rows.choose_multiple(rng, n).map(clean).collect()
}

/// Seconds of one full-batch step of the baseline's head fit, per training row: timed
/// on random features of `rows` rows × `hidden` for `classes` classes. `None` if
/// `cancel` was set.
fn time_head_fit(
    rows: usize,
    hidden: usize,
    classes: usize,
    cancel: &AtomicBool,
) -> Result<Option<f64>> {
    let rows = rows.max(1);
    let features = Tensor::randn(0f32, 1f32, (rows, hidden), &Device::Cpu)?;
    let targets: Vec<u32> = (0..rows).map(|i| (i % classes.max(1)) as u32).collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu)?;
    let penalty = PENALTIES[0];
    if fit_softmax(&features, &targets, classes, penalty, 1, cancel)?.is_none() {
        return Ok(None);
    }
    let start = Instant::now();
    if fit_softmax(
        &features,
        &targets,
        classes,
        penalty,
        HEAD_PROBE_STEPS,
        cancel,
    )?
    .is_none()
    {
        return Ok(None);
    }
    Ok(Some(
        start.elapsed().as_secs_f64() / (HEAD_PROBE_STEPS * rows) as f64,
    ))
}

#[cfg(test)]
mod tests;
