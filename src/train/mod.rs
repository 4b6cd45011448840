//! Fine-tuning: the transformers Trainer recipe (AdamW with parameter groups, linear
//! decay, clipping, dropout, evaluation each epoch, best checkpoint kept) in candle.

mod baseline;
mod batching;
pub mod checkpoint;
mod class_weights;
mod data;
pub mod estimate;
mod multi_label;
pub mod optim;
pub mod suspects;

pub use data::{DataSpec, LoadedData};
pub use suspects::{find_suspects, Suspect, SuspectProgress, SuspectReport, SuspectRequest};

use crate::calibration::calibrate;
use crate::dataset::{Example, LabeledData, TextSpec};
use crate::device::{device_name, enable_tensor_cores};
use crate::error::{EngineError, Result};
use crate::events::{EpochRecord, RunSummary, TrainEvent};
use crate::inference::{argmax, batched_logits};
use crate::metrics::Metrics;
use crate::model::folder::replace_dir;
use crate::model::layers::{DropoutRng, Mode};
use crate::model::params::HeadPolicy;
use crate::model::resolve::resolve_model;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::{Batch, SequenceClassifier};
use crate::model_card::{ModelCard, MultiLabelCard};
use crate::multi_label::DEFAULT_THRESHOLD;
use crate::settings::{Method, Sampler, TrainConfig};
use candle_core::{Device, Tensor};
use optim::{linear_lr, AdamW};
use rand::{rngs::StdRng, SeedableRng};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The rows to train and validate on, and the class list (index = model output).
#[derive(Debug, Clone)]
pub struct TrainData {
    pub train: Vec<Example>,
    pub validation: Vec<Example>,
    pub labels: Vec<String>,
    /// How each text was composed from the file's columns, recorded with the model so
    /// prediction composes texts the same way (`None`: not from a file's columns).
    pub text: Option<TextSpec>,
}

impl TrainData {
    /// Whether the rows hold label sets (multi-label: a sigmoid and binary
    /// cross-entropy per label).
    pub fn multi_label(&self) -> bool {
        self.train.iter().any(|e| e.labels.is_some())
    }
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
    /// Each row's classes as 0/1 per label, for a multi-label run (then the class
    /// indices above are empty).
    label_flags: Option<LabelFlags>,
    truncated_rows: usize,
    text: Option<TextSpec>,
}

/// A multi-label run's targets: one flag per label for every row.
struct LabelFlags {
    train: Vec<Vec<bool>>,
    validation: Vec<Vec<bool>>,
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
        let result = match config.method {
            Method::FineTune => run_inner(config, data, &mut on_event, cancel, false),
            Method::Baseline => baseline::run(config, data, &mut on_event, cancel),
        };
        report_failure(result, &mut on_event)
    }

    /// Continue a cancelled, failed or killed fine-tune from the checkpoint of its last
    /// completed epoch in `config.checkpoint_dir`, on the same `data`. On the CPU the
    /// result is the same as a run never interrupted.
    pub fn resume(
        config: &TrainConfig,
        data: &TrainData,
        mut on_event: impl FnMut(&TrainEvent),
        cancel: &AtomicBool,
    ) -> Result<RunSummary> {
        let result = match (config.method, &config.checkpoint_dir) {
            (Method::FineTune, Some(dir)) if checkpoint::exists(dir) => {
                // This run is the checkpoint's writer now: finish an interrupted swap.
                crate::model::folder::recover(dir)
                    .and_then(|()| run_inner(config, data, &mut on_event, cancel, true))
            }
            (Method::Baseline, _) => Err(EngineError::Config(
                "a baseline run has no checkpoints (it takes one pass): start it again".into(),
            )),
            _ => Err(EngineError::Config(
                "this run has no checkpoint to resume from: it ended before its first epoch \
                 did (start it again)"
                    .into(),
            )),
        };
        report_failure(result, &mut on_event)
    }
}

/// Report an error as a `Failed` event, and pass the result on.
fn report_failure(
    result: Result<RunSummary>,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<RunSummary> {
    if let Err(e) = &result {
        on_event(&TrainEvent::Failed {
            message: e.to_string(),
        });
    }
    result
}

/// The seed of one epoch's random stream (`stream` tells data order from dropout):
/// each epoch draws afresh, so a resumed run needs no generator state.
fn epoch_seed(seed: u64, epoch: usize, stream: u64) -> u64 {
    // SplitMix64's finaliser over the three inputs.
    let mut z = seed
        .wrapping_add((epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
const ORDER_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;

/// The model and the tokenised rows; `None` when `cancel` was set while tokenising.
/// `weights`: a checkpoint folder whose weights (head included) replace the base
/// model's (resuming).
fn prepare(
    config: &TrainConfig,
    data: &TrainData,
    device: &Device,
    weights: Option<&std::path::Path>,
    cancel: &AtomicBool,
) -> Result<Option<Prepared>> {
    config.validate()?;
    if config.output_dir.as_os_str().is_empty() {
        return Err(EngineError::Config(
            "no folder to save the model in: set the output folder (a run store sets it)".into(),
        ));
    }
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
    let outside = |which: &str| {
        EngineError::Config(format!(
            "a {which} row has a label the training classes do not include"
        ))
    };
    let (train_labels, validation_labels, label_flags) = if data.multi_label() {
        multi_label::refuse_single_label_settings(config)?;
        let flags = |rows: &[Example], which| {
            LabeledData::label_flags(rows, &data.labels).ok_or_else(|| outside(which))
        };
        let flags = LabelFlags {
            train: flags(&data.train, "training")?,
            validation: flags(&data.validation, "validation")?,
        };
        (Vec::new(), Vec::new(), Some(flags))
    } else {
        let indices = |rows: &[Example], which| {
            LabeledData::label_indices(rows, &data.labels).ok_or_else(|| outside(which))
        };
        (
            indices(&data.train, "training")?,
            indices(&data.validation, "validation")?,
            None,
        )
    };
    let head = match (weights, config.new_head) {
        (Some(_), _) => HeadPolicy::Require,
        (None, true) => HeadPolicy::InitIfMismatched,
        (None, false) => HeadPolicy::InitIfAbsent,
    };
    let (mut model, encoder) = load_model(
        &config.model,
        weights,
        &data.labels,
        head,
        device,
        config.seed,
        config.max_length,
    )?;
    model.set_multi_label(label_flags.is_some());
    // Personal data the text spec scrubs never reaches the model.
    let scrubbing = data
        .text
        .clone()
        .unwrap_or_else(|| TextSpec::columns(Vec::new()));
    let texts = |rows: &[Example]| {
        rows.iter()
            .map(|e| scrubbing.clean(&e.text).into_owned())
            .collect::<Vec<_>>()
    };
    let Some(train) = encoder.encode_cancellable(&texts(&data.train), cancel)? else {
        return Ok(None);
    };
    let Some(validation) = encoder.encode_cancellable(&texts(&data.validation), cancel)? else {
        return Ok(None);
    };
    Ok(Some(Prepared {
        truncated_rows: train.iter().filter(|e| e.truncated).count(),
        train,
        validation,
        train_labels: train_labels.into_iter().map(|i| i as u32).collect(),
        validation_labels,
        label_flags,
        model,
        encoder,
        text: data.text.clone(),
    }))
}

/// The model `model` (resolved locally or from the hub), with its weights from the
/// checkpoint folder `weights` when given, and a head for `labels` as `head` allows
/// (`seed` initialises it); and its text encoder, which cuts texts at `max_length`
/// tokens or the model's positions, whichever is fewer.
fn load_model(
    model: &str,
    weights: Option<&std::path::Path>,
    labels: &[String],
    head: HeadPolicy,
    device: &Device,
    seed: u64,
    max_length: usize,
) -> Result<(SequenceClassifier, TextEncoder)> {
    let dir = resolve_model(model)?;
    let model = SequenceClassifier::load_with_head(
        weights.unwrap_or(&dir),
        Some(labels.to_vec()),
        head,
        device,
        seed,
    )?;
    let encoder = TextEncoder::load(&dir, max_length.min(model.max_positions()))?;
    Ok((model, encoder))
}

/// A run's opening, shared by both methods: open the device, prepare the model and
/// rows in the configured precision, announce `Started` with `plan(&prepared)` =
/// (epochs, steps per epoch, newly initialised weights), and an empty summary. The
/// prepared run is `None` when `cancel` was set while preparing (nothing started).
fn open_run(
    config: &TrainConfig,
    data: &TrainData,
    weights: Option<&std::path::Path>,
    on_event: &mut dyn FnMut(&TrainEvent),
    cancel: &AtomicBool,
    plan: impl Fn(&Prepared) -> (usize, usize, Vec<String>),
) -> Result<(Device, Option<Prepared>, RunSummary)> {
    let device = config.device.open()?;
    // GPUs draw dropout masks from their own generator; CPUs use DropoutRng's.
    let _ = device.set_seed(config.seed);
    let compute = config.precision.compute_dtype(&device)?;
    enable_tensor_cores(&device);
    let device_label = device_name(&device);
    let summary = RunSummary {
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
        device: device_label.clone(),
    };
    let Some(mut p) = prepare(config, data, &device, weights, cancel)? else {
        return Ok((device, None, summary));
    };
    p.model.set_compute_dtype(compute);
    let (epochs, steps_per_epoch, newly_initialised) = plan(&p);
    on_event(&TrainEvent::Started {
        model: config.model.clone(),
        device: device_label.clone(),
        labels: data.labels.clone(),
        train_rows: p.train.len(),
        validation_rows: p.validation.len(),
        epochs,
        steps_per_epoch,
        total_steps: steps_per_epoch * epochs,
        max_length: p.encoder.max_length(),
        truncated_rows: p.truncated_rows,
        newly_initialised,
        precision: precision_name(compute).into(),
        multi_label: p.label_flags.is_some(),
    });
    Ok((device, Some(p), summary))
}

/// End a run as cancelled: the `Cancelled` event with `summary` as it stands.
fn cancelled(
    mut summary: RunSummary,
    started: Instant,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<RunSummary> {
    summary.cancelled = true;
    summary.seconds = started.elapsed().as_secs_f64();
    on_event(&TrainEvent::Cancelled {
        step: summary.steps,
        summary: summary.clone(),
    });
    Ok(summary)
}

fn run_inner(
    config: &TrainConfig,
    data: &TrainData,
    on_event: &mut dyn FnMut(&TrainEvent),
    cancel: &AtomicBool,
    resume: bool,
) -> Result<RunSummary> {
    let started = Instant::now();
    let checkpoint_dir = config.checkpoint_dir.as_deref();
    let weights = checkpoint_dir.filter(|_| resume);
    let (device, p, mut summary) = open_run(config, data, weights, on_event, cancel, |p| {
        let steps_per_epoch = optim::steps_per_epoch(p.train.len(), config.batch_size);
        (
            config.epochs,
            steps_per_epoch,
            p.model.newly_initialised().to_vec(),
        )
    })?;
    let Some(p) = p else {
        return cancelled(summary, started, on_event);
    };
    let steps_per_epoch = optim::steps_per_epoch(p.train.len(), config.batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let loss_weights = class_weights::weights_tensor(
        class_weights::class_weights(config.class_weights, &p.train_labels, data.labels.len()),
        &device,
    )?;
    let objective = match &p.label_flags {
        Some(_) => Objective::MultiLabel,
        None => Objective::SingleLabel(loss_weights.as_ref()),
    };
    let mut optimizer = AdamW::new(p.model.vars(), config.weight_decay)?;
    let mut since_best = 0;
    let mut first_epoch = 1;
    let mut seconds_before = 0.0;
    if let Some(dir) = weights {
        let (state, moments) = checkpoint::load(dir)?;
        if state.summary.labels != data.labels || state.epoch >= config.epochs {
            return Err(EngineError::Config(format!(
                "the checkpoint in {} does not fit this run (classes or epochs differ)",
                dir.display()
            )));
        }
        optimizer.restore(state.optimizer_step, &moments)?;
        since_best = state.since_best;
        first_epoch = state.epoch + 1;
        seconds_before = state.summary.seconds;
        // Where the model goes and what runs it are this session's.
        summary = RunSummary {
            output_dir: summary.output_dir,
            device: summary.device,
            ..state.summary
        };
    }
    let lengths: Vec<usize> = p.train.iter().map(|e| e.ids.len()).collect();
    // On a GPU the host reads losses a few times a second, not after every step, so
    // the device never waits for it; the steps in between are reported together.
    let mut pending = PendingSteps::new(device.is_cpu());
    // The saved best model's validation logits (this session's epochs only).
    let mut best_logits = None;

    'epochs: for epoch in first_epoch..=config.epochs {
        let dropout = DropoutRng::new(epoch_seed(config.seed, epoch, DROPOUT_STREAM));
        let mut rng = StdRng::seed_from_u64(epoch_seed(config.seed, epoch, ORDER_STREAM));
        let epoch_start = Instant::now();
        pending.since = epoch_start;
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        let batches = match config.sampler {
            Sampler::Shuffle => batching::epoch_batches(
                &lengths,
                config.batch_size,
                config.group_by_length,
                &mut rng,
            ),
            Sampler::Balanced => batching::balanced_batches(
                &p.train_labels,
                &lengths,
                config.batch_size,
                config.group_by_length,
                &mut rng,
            ),
        };
        for batch_rows in batches {
            if cancel.load(Ordering::Relaxed) {
                pending.report(epoch, total_steps, on_event)?;
                summary.cancelled = true;
                break 'epochs;
            }
            let lr = linear_lr(
                config.learning_rate,
                summary.steps,
                config.warmup_steps,
                total_steps,
            );
            let items: Vec<&Encoded> = batch_rows.iter().map(|&i| &p.train[i]).collect();

            // The CPU takes padding-free batches (all but ModernBERT): no work goes to
            // padding, whatever the order; other devices pad each batch to its longest row.
            let batch = if p.model.takes_packed() {
                p.encoder.collate_packed(&items, &device)?
            } else {
                p.encoder.collate(&items, &device)?
            };
            let targets = match &p.label_flags {
                Some(flags) => {
                    let rows: Vec<&Vec<bool>> =
                        batch_rows.iter().map(|&i| &flags.train[i]).collect();
                    multi_label::targets_tensor(&rows, data.labels.len(), &device)?
                }
                None => {
                    let labels: Vec<u32> = batch_rows.iter().map(|&i| p.train_labels[i]).collect();
                    Tensor::from_vec(labels, batch_rows.len(), &device)?
                }
            };
            summary.steps += 1;
            let mode = Mode::Train(&dropout);
            if pending.every_step {
                let (loss, norm) = weighted_train_step(
                    &p.model,
                    &mut optimizer,
                    &batch,
                    &targets,
                    objective,
                    lr,
                    config.max_grad_norm,
                    &mode,
                    summary.steps,
                )?;
                pending.push_read(summary.steps, batch_rows.len(), lr, loss, norm);
            } else {
                let (loss, norm, grads) = weighted_forward_backward(
                    &p.model,
                    &mut optimizer,
                    &batch,
                    &targets,
                    objective,
                    &mode,
                )?;
                optimizer.step(&grads, &norm, config.max_grad_norm, lr)?;
                pending.push(summary.steps, batch_rows.len(), lr, loss, norm);
            }
            if pending.due() {
                for (rows, loss) in pending.report(epoch, total_steps, on_event)? {
                    loss_sum += loss * rows as f64;
                    seen += rows;
                }
            }
        }
        for (rows, loss) in pending.report(epoch, total_steps, on_event)? {
            loss_sum += loss * rows as f64;
            seen += rows;
        }
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        let Some((eval_loss, metrics, logits)) = evaluate(&p, config.eval_batch_size, cancel)?
        else {
            summary.cancelled = true;
            break;
        };
        let value = config.best_metric.value(&metrics);
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
            summary.seconds = seconds_before + started.elapsed().as_secs_f64();
            save_best(&p, config, &summary)?;
            best_logits = Some(logits);
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
        if let (Some(dir), true) = (checkpoint_dir, epoch < config.epochs) {
            summary.seconds = seconds_before + started.elapsed().as_secs_f64();
            checkpoint::save(dir, &p.model, &optimizer, epoch, since_best, &summary)?;
        }
    }
    summary.seconds = seconds_before + started.elapsed().as_secs_f64();
    if let (Some(dir), false) = (checkpoint_dir, summary.cancelled) {
        // Finished: nothing left to resume.
        checkpoint::remove(dir)?;
    }
    if !summary.cancelled && summary.best_epoch.is_some() {
        if p.label_flags.is_some() {
            tune_best_thresholds(&p, config, best_logits.as_deref(), on_event)?;
        } else {
            check_int8(&p, config, &device, best_logits.as_deref(), on_event)?;
            calibrate_best(&p, config, best_logits.as_deref(), on_event)?;
        }
    }
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

/// Steps taken on the device whose loss the host has not read yet.
struct PendingSteps {
    /// Read after every step (CPU: the step itself dwarfs the read).
    every_step: bool,
    steps: Vec<PendingStep>,
    since: Instant,
}

struct PendingStep {
    step: usize,
    rows: usize,
    learning_rate: f64,
    /// Loss and gradient norm: read already, or scalar tensors still on the device.
    values: StepValues,
}

enum StepValues {
    Read(f32, f32),
    OnDevice(Tensor, Tensor),
}

/// How often losses are read from a GPU.
const READ_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

impl PendingSteps {
    fn new(every_step: bool) -> Self {
        Self {
            every_step,
            steps: Vec::new(),
            since: Instant::now(),
        }
    }

    fn push_read(&mut self, step: usize, rows: usize, learning_rate: f64, loss: f32, norm: f32) {
        self.steps.push(PendingStep {
            step,
            rows,
            learning_rate,
            values: StepValues::Read(loss, norm),
        });
    }

    fn push(&mut self, step: usize, rows: usize, learning_rate: f64, loss: Tensor, norm: Tensor) {
        self.steps.push(PendingStep {
            step,
            rows,
            learning_rate,
            values: StepValues::OnDevice(loss.detach(), norm.detach()),
        });
    }

    fn due(&self) -> bool {
        self.every_step || self.since.elapsed() >= READ_INTERVAL
    }

    /// Read the pending losses in one transfer and report a `Step` event for each;
    /// returns each step's (rows, loss). A non-finite loss is `Diverged` (the fused
    /// CUDA update skips such steps, so the weights are those before it).
    fn report(
        &mut self,
        epoch: usize,
        total_steps: usize,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<Vec<(usize, f64)>> {
        let steps = std::mem::take(&mut self.steps);
        let seconds = self.since.elapsed().as_secs_f64().max(1e-9);
        self.since = Instant::now();
        let on_device: Vec<Tensor> = steps
            .iter()
            .filter_map(|s| match &s.values {
                StepValues::OnDevice(loss, norm) => Some([loss.clone(), norm.clone()]),
                StepValues::Read(..) => None,
            })
            .flatten()
            .collect();
        let mut read = if on_device.is_empty() {
            Vec::new()
        } else {
            Tensor::stack(&on_device, 0)?.to_vec1::<f32>()?
        }
        .into_iter();
        let rows: usize = steps.iter().map(|s| s.rows).sum();
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            let (loss, norm) = match s.values {
                StepValues::Read(loss, norm) => (loss, norm),
                StepValues::OnDevice(..) => (
                    read.next().unwrap_or(f32::NAN),
                    read.next().unwrap_or(f32::NAN),
                ),
            };
            if !loss.is_finite() {
                return Err(EngineError::Diverged { step: s.step, loss });
            }
            on_event(&TrainEvent::Step {
                epoch,
                step: s.step,
                total_steps,
                loss: loss as f64,
                learning_rate: s.learning_rate,
                grad_norm: norm as f64,
                samples_per_second: rows as f64 / seconds,
            });
            out.push((s.rows, loss as f64));
        }
        Ok(out)
    }
}

fn precision_name(dtype: candle_core::DType) -> &'static str {
    match dtype {
        candle_core::DType::BF16 => "bf16",
        _ => "f32",
    }
}

/// The loss a run trains with.
#[derive(Clone, Copy)]
enum Objective<'a> {
    /// Mean cross-entropy over the classes, each class's term weighed by the weights
    /// when given (see [`class_weights::cross_entropy`]).
    SingleLabel(Option<&'a Tensor>),
    /// Mean binary cross-entropy per label (see [`multi_label::bce_with_logits`]).
    MultiLabel,
}

impl Objective<'_> {
    fn loss(self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        match self {
            Objective::SingleLabel(weights) => {
                class_weights::cross_entropy(logits, targets, weights)
            }
            Objective::MultiLabel => multi_label::bce_with_logits(logits, targets),
        }
    }
}

/// Forward, mean cross-entropy and backward: the loss, the global gradient norm (both
/// still on the device) and the gradients.
fn forward_backward(
    model: &SequenceClassifier,
    optimizer: &mut AdamW,
    batch: &Batch,
    targets: &Tensor,
    mode: &Mode,
) -> Result<(Tensor, Tensor, candle_core::backprop::GradStore)> {
    weighted_forward_backward(
        model,
        optimizer,
        batch,
        targets,
        Objective::SingleLabel(None),
        mode,
    )
}

/// [`forward_backward`] with `objective`'s loss (class weights, or binary
/// cross-entropy for label sets).
fn weighted_forward_backward(
    model: &SequenceClassifier,
    optimizer: &mut AdamW,
    batch: &Batch,
    targets: &Tensor,
    objective: Objective,
    mode: &Mode,
) -> Result<(Tensor, Tensor, candle_core::backprop::GradStore)> {
    let device = model.device();
    let logits = model.forward(batch, mode).map_err(oom(device))?;
    let loss = objective.loss(&logits, targets)?;
    let grads = loss.backward().map_err(|e| oom(device)(e.into()))?;
    let norm = optimizer.grad_norm(&grads)?;
    Ok((loss, norm, grads))
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
    weighted_train_step(
        model,
        optimizer,
        batch,
        targets,
        Objective::SingleLabel(None),
        lr,
        max_grad_norm,
        mode,
        step,
    )
}

/// [`train_step`] with `objective`'s loss.
#[allow(clippy::too_many_arguments)]
fn weighted_train_step(
    model: &SequenceClassifier,
    optimizer: &mut AdamW,
    batch: &Batch,
    targets: &Tensor,
    objective: Objective,
    lr: f64,
    max_grad_norm: f64,
    mode: &Mode,
    step: usize,
) -> Result<(f32, f32)> {
    let (loss, norm, grads) =
        weighted_forward_backward(model, optimizer, batch, targets, objective, mode)?;
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

/// A model's validation loss, metrics and logits (one row per validation row).
type Evaluation = (f64, Metrics, Vec<Vec<f32>>);

/// Validation loss, metrics and logits; `None` when cancelled midway.
fn evaluate(p: &Prepared, batch_size: usize, cancel: &AtomicBool) -> Result<Option<Evaluation>> {
    // A frozen view: no graph, so each batch's activations are freed as it goes.
    let model = p.model.frozen()?;
    let Some(logits) = batched_logits(&model, &p.encoder, &p.validation, batch_size, Some(cancel))
        .map_err(oom(p.model.device()))?
    else {
        return Ok(None);
    };
    if let Some(flags) = &p.label_flags {
        let loss = crate::multi_label::bce_with_logits(&logits, &flags.validation);
        let thresholds = vec![DEFAULT_THRESHOLD; p.model.labels().len()];
        let metrics =
            Metrics::of_label_set_logits(p.model.labels(), &logits, &flags.validation, &thresholds);
        return Ok(Some((loss, metrics, logits)));
    }
    let mut loss = 0.0;
    let mut predicted = Vec::with_capacity(logits.len());
    for (row, &truth) in logits.iter().zip(&p.validation_labels) {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let log_sum = row.iter().map(|v| (v - max).exp()).sum::<f32>().ln() + max;
        loss += (log_sum - row[truth]) as f64;
        predicted.push(argmax(row));
    }
    let metrics = Metrics::compute(p.model.labels(), &p.validation_labels, &predicted);
    Ok(Some((loss / logits.len().max(1) as f64, metrics, logits)))
}

/// Tune each label's threshold on the saved best model's validation logits (its best
/// F1; 0.5 for a label without validation positives), record them in its card with
/// the metrics they give, and report those. Without the logits (a resumed run whose
/// best epoch came before), the card keeps 0.5 for every label.
fn tune_best_thresholds(
    p: &Prepared,
    config: &TrainConfig,
    logits: Option<&[Vec<f32>]>,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<()> {
    let (Some(logits), Some(flags)) = (logits.filter(|l| !l.is_empty()), &p.label_flags) else {
        return Ok(());
    };
    let card = MultiLabelCard::tuned(p.model.labels(), logits, &flags.validation);
    ModelCard::record_multi_label(&config.output_dir, &card)?;
    if let Some(metrics) = card.metrics {
        on_event(&TrainEvent::ThresholdsTuned { metrics });
    }
    Ok(())
}

/// On the CPU, compare the saved best model's int8 predictions with its f32 ones on
/// the validation split (`f32_logits` when its evaluation's are at hand), record the
/// check in its card (it decides whether the model predicts in int8) and report it.
fn check_int8(
    p: &Prepared,
    config: &TrainConfig,
    device: &Device,
    f32_logits: Option<&[Vec<f32>]>,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<()> {
    if !device.is_cpu() || p.validation.is_empty() {
        return Ok(());
    }
    let check = crate::quantize::measure(
        &config.output_dir,
        &p.encoder,
        &p.validation,
        &p.validation_labels,
        "validation split",
        f32_logits,
    )?;
    ModelCard::record_int8(&config.output_dir, &check)?;
    on_event(&TrainEvent::Int8Checked { check });
    Ok(())
}

/// Fit the temperature of the saved best model on its validation logits, record it in
/// its card and report it.
fn calibrate_best(
    p: &Prepared,
    config: &TrainConfig,
    logits: Option<&[Vec<f32>]>,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<()> {
    let Some(logits) = logits.filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    let calibration = calibrate(logits, &p.validation_labels);
    ModelCard::record_calibration(&config.output_dir, &calibration)?;
    on_event(&TrainEvent::Calibrated { calibration });
    Ok(())
}

/// Write the best model so far: model, tokenizer and card replace the output folder
/// as a whole (a crash mid-save leaves the previous best intact).
fn save_best(p: &Prepared, config: &TrainConfig, summary: &RunSummary) -> Result<()> {
    replace_dir(&config.output_dir, |dir| {
        p.model.save(dir)?;
        p.encoder.save(dir)?;
        ModelCard {
            base_model: config.model.clone(),
            max_length: p.encoder.max_length(),
            labels: summary.labels.clone(),
            text: p.text.clone(),
            config: config.clone(),
            summary: Some(summary.clone()),
            int8: None,
            calibration: None,
            routing: None,
            multi_label: p.label_flags.as_ref().map(|_| MultiLabelCard {
                thresholds: vec![DEFAULT_THRESHOLD; summary.labels.len()],
                metrics: None,
            }),
        }
        .save(dir)
    })
}

/// Turn a tensor error that is really an out-of-memory condition into a clear message.
fn oom(device: &Device) -> impl Fn(EngineError) -> EngineError + '_ {
    move |e| {
        let text = e.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("out of memory") || lower.contains("out_of_memory") {
            EngineError::OutOfMemory {
                device: device_name(device),
                // The driver's words, without the backtrace candle may append.
                message: text.lines().next().unwrap_or_default().trim().to_string(),
            }
        } else {
            e
        }
    }
}
