//! The measurement on this machine: the model loaded as training loads it (device,
//! precision, max length), a warm-up and four timed training steps on real rows of
//! the data, batched as the run batches them, one timed batch of each kind of
//! inference a run does (evaluation; the baseline's encoding; on the CPU, int8), and
//! one save of the weights. What it finds does not depend on the data (costs per unit
//! of work, see [`WorkModel`]), so it is kept per device, model and precision and
//! reused for other data, rows, epochs and lengths.

use super::super::{forward_backward, load_model};
use super::cost::{calibration_batches, measure_steps, StepCost, WorkModel};
use super::memory;
use crate::device::{available_devices, device_name, enable_tensor_cores, DeviceChoice};
use crate::error::{EngineError, Result};
use crate::model::layers::{DropoutRng, Mode};
use crate::model::params::HeadPolicy;
use crate::model::tokenize::Encoded;
use crate::model::SequenceClassifier;
use crate::settings::TrainConfig;
use crate::train::optim::AdamW;
use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Rows in the timed inference batches.
const INFERENCE_ROWS: usize = 16;
/// The inference batch is timed at least this many times, and for at least this many
/// seconds in all, but at most the last number of times (the median counts).
const TIMED_INFERENCE: (usize, f64, usize) = (3, 0.5, 25);
/// How far beyond the timed batches' work a measurement is trusted: a step's time grows
/// less than in proportion to its tokens (larger matrix products run more efficiently),
/// so a cost fitted on short rows overstates long ones (Banking77's ~20 tokens a row
/// against Ticket Tagger's 128: +40–60%, bench/README.md).
const COVERAGE: f64 = 1.5;

/// What a measurement is valid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Key {
    /// The hardware as its driver names it (the CPU with its threads and vector
    /// instructions, the GPU's model).
    pub device: String,
    pub model: String,
    /// The compute precision the device runs the model in ("f32", "bf16").
    pub precision: String,
}

/// Int8 prediction's costs (the CPU's end-of-run check).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Int8Cost {
    pub quantize_seconds: f64,
    pub per_work: f64,
}

/// The costs measured for one key: none depends on the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Measured {
    pub key: Key,
    /// Seconds since the Unix epoch.
    pub measured_at: u64,
    /// How long measuring took.
    pub seconds: f64,
    /// Trainable parameters.
    pub params: u64,
    pub hidden: usize,
    pub intermediate: usize,
    /// The model's position limit (max length is capped at it).
    pub max_positions: usize,
    /// Resolving and loading the model.
    pub load_seconds: f64,
    /// A training step (forward, backward, clipping, AdamW).
    pub train: StepCost,
    /// The least and most work of the timed training steps.
    pub timed_work: (f64, f64),
    /// The CPUs' load average per core when measuring began (Linux): above 0.5, other
    /// work was competing for them.
    pub load_per_core: Option<f64>,
    /// Seconds per unit of work of evaluation (dropout off, no graph).
    pub eval_per_work: f64,
    /// The same for the baseline's mean-pooled encoding (padded batches).
    pub encode_per_work: f64,
    /// Int8 prediction (CPU only).
    pub int8: Option<Int8Cost>,
    /// Seconds per byte of writing the weights.
    pub save_seconds_per_byte: f64,
    /// Memory a training batch holds per unit of its work, beyond the weights, their
    /// gradients and AdamW's moments; `None` where memory in use cannot be read.
    pub activation_bytes_per_work: Option<f64>,
    /// The same for an inference batch (padded work), beyond the weights.
    pub inference_bytes_per_work: Option<f64>,
}

impl Measured {
    /// How the model's work is counted.
    pub fn work(&self) -> WorkModel {
        WorkModel::new(self.hidden, self.intermediate)
    }

    /// Whether steps of `work` are within the range the measurement timed (widened by
    /// [`COVERAGE`]).
    pub fn covers(&self, work: f64) -> bool {
        let (least, most) = self.timed_work;
        least / COVERAGE <= work && work <= most * COVERAGE
    }

    /// The middle of the timed range.
    pub fn typical_work(&self) -> f64 {
        (self.timed_work.0 * self.timed_work.1).sqrt()
    }
}

/// The device a run of the config would open, in its compute precision.
pub(super) struct Target {
    pub device: Device,
    pub compute: DType,
    pub key: Key,
}

impl Target {
    /// Open the device as a run does, and name what a measurement on it is valid for.
    pub fn open(config: &TrainConfig) -> Result<Self> {
        let device = config.device.open()?;
        let _ = device.set_seed(config.seed);
        let compute = config.precision.compute_dtype(&device)?;
        enable_tensor_cores(&device);
        let key = Key {
            device: hardware(&device),
            model: config.model.clone(),
            precision: match compute {
                DType::BF16 => "bf16",
                _ => "f32",
            }
            .into(),
        };
        Ok(Self {
            device,
            compute,
            key,
        })
    }
}

/// The hardware behind `device`, as the device list names it; on the CPU with the
/// worker threads the matrix products use.
fn hardware(device: &Device) -> String {
    let choice = match device {
        Device::Cpu => DeviceChoice::Cpu,
        Device::Cuda(_) => DeviceChoice::Cuda,
        Device::Metal(_) => DeviceChoice::Metal,
    };
    let name = available_devices()
        .into_iter()
        .find(|d| d.choice == choice)
        .and_then(|d| d.name)
        .unwrap_or_else(|| device_name(device));
    if device.is_cpu() {
        format!("{name}, {} worker threads", rayon::current_num_threads())
    } else {
        name
    }
}

/// The rows a measurement uses: cleaned texts with their token counts.
pub(super) struct Rows<'a> {
    pub texts: &'a [String],
    pub counts: &'a [usize],
}

/// Measure `config`'s model on `target` with rows of the data: `train` for the
/// training steps, `validation` (cleaned texts) for the inference batches; the weights
/// are written once to a scratch folder in `scratch`. `None` if `cancel` was set.
pub(super) fn measure(
    config: &TrainConfig,
    target: &Target,
    labels: &[String],
    train: &Rows,
    validation: &[String],
    scratch: &Path,
    cancel: &AtomicBool,
) -> Result<Option<Measured>> {
    let started = Instant::now();
    let load_per_core = load_per_core();
    let device = &target.device;
    crate::allocator::release();
    let before = memory::in_use(device);
    let load_start = Instant::now();
    let head = if config.new_head {
        HeadPolicy::InitIfMismatched
    } else {
        HeadPolicy::InitIfAbsent
    };
    let (mut model, encoder) = load_model(
        &config.model,
        None,
        labels,
        head,
        device,
        config.seed,
        config.max_length,
    )?;
    model.set_compute_dtype(target.compute);
    let load_seconds = load_start.elapsed().as_secs_f64();
    let (hidden, intermediate) = shape(&crate::model::resolve::resolve_model(&config.model)?)?;
    let work = WorkModel::new(hidden, intermediate);
    let packed = model.takes_packed();
    let lens = |items: &[&Encoded]| items.iter().map(|e| e.ids.len()).collect::<Vec<_>>();

    // Inference first, while the heap holds only the weights: what its batch adds to
    // memory in use shows (the allocator keeps freed memory, so what a pass held at
    // its peak stays counted after it).
    let picked: Vec<String> = validation.iter().take(INFERENCE_ROWS).cloned().collect();
    let rows = encoder.encode(&picked)?;
    let items: Vec<&Encoded> = rows.iter().collect();
    let frozen = model.frozen()?;
    let time = |model: &SequenceClassifier, packed: bool, pooled: bool| -> Result<f64> {
        // A warm-up on two rows, then the batch until it has been timed at least
        // `TIMED_INFERENCE.0` times and for `TIMED_INFERENCE.1` seconds (a batch of short
        // rows takes milliseconds): the median, so that one pass slowed by another
        // process does not set the estimate.
        let warm_up = &items[..items.len().min(2)];
        let (least, span, most) = TIMED_INFERENCE;
        let mut seconds: Vec<f64> = Vec::new();
        let passes = std::iter::once(warm_up).chain(std::iter::repeat(&items[..]));
        for (pass, batch) in passes.enumerate() {
            let timed: f64 = seconds.iter().sum();
            if seconds.len() >= most || (seconds.len() >= least && timed >= span) {
                break;
            }
            let start = Instant::now();
            let batch = if packed {
                encoder.collate_packed(batch, device)?
            } else {
                encoder.collate(batch, device)?
            };
            let out = if pooled {
                model.mean_pooled(&batch, &Mode::Eval)?
            } else {
                model.forward(&batch, &Mode::Eval)?
            };
            out.to_vec2::<f32>()?;
            if pass > 0 {
                seconds.push(start.elapsed().as_secs_f64());
            }
        }
        seconds.sort_by(f64::total_cmp);
        let median = seconds.get(seconds.len() / 2).copied().unwrap_or(0.0);
        Ok(median / work.batch(&lens(&items), packed).max(1.0))
    };
    let loaded = memory::in_use(device);
    let encode_per_work = time(&frozen, false, true)?;
    let eval_per_work = time(&frozen, frozen.takes_packed(), false)?;
    let inference_bytes_per_work = loaded.zip(memory::in_use(device)).map(|(loaded, now)| {
        now.saturating_sub(loaded) as f64 / work.batch(&lens(&items), false).max(1.0)
    });
    drop(frozen);
    if cancel.load(Ordering::Relaxed) {
        return Ok(None);
    }

    let lengths: Vec<usize> = train
        .counts
        .iter()
        .map(|&c| c.min(encoder.max_length()))
        .collect();
    let batches = calibration_batches(&lengths, config.batch_size, config.seed)
        .iter()
        .map(|rows| {
            encoder.encode(
                &rows
                    .iter()
                    .map(|&i| train.texts[i].clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let classes = labels.len().max(1);
    let mut optimizer = AdamW::new(model.vars(), config.weight_decay)?;
    let dropout = DropoutRng::new(config.seed);
    let mut peak = before;
    let step = |items: &[&Encoded]| -> Result<Duration> {
        let start = Instant::now();
        let batch = if packed {
            encoder.collate_packed(items, device)?
        } else {
            encoder.collate(items, device)?
        };
        let classes: Vec<u32> = (0..items.len()).map(|i| (i % classes) as u32).collect();
        let targets = Tensor::from_vec(classes, items.len(), device)?;
        let mode = Mode::Train(&dropout);
        let (loss, norm, grads) =
            forward_backward(&model, &mut optimizer, &batch, &targets, &mode)?;
        // After the backward pass, activations and gradients are all held: the peak.
        let probe = Instant::now();
        peak = peak.max(memory::in_use(device));
        let probing = probe.elapsed();
        optimizer.step(&grads, &norm, config.max_grad_norm, config.learning_rate)?;
        loss.to_scalar::<f32>()?;
        Ok(start.elapsed().saturating_sub(probing))
    };
    let Some(train_cost) = measure_steps(
        &batches,
        |items| work.batch(&lens(items), packed),
        step,
        cancel,
    )?
    else {
        return Ok(None);
    };
    let works: Vec<f64> = batches
        .iter()
        .map(|b| work.batch(&lens(&b.iter().collect::<Vec<_>>()), packed))
        .collect();
    let heaviest = works[0];
    let timed = &works[1..];
    let timed_work = (
        timed.iter().copied().fold(f64::INFINITY, f64::min),
        timed.iter().copied().fold(0.0, f64::max),
    );
    let params: u64 = model
        .vars()
        .iter()
        .map(|(_, v)| v.elem_count() as u64)
        .sum();
    let activation_bytes_per_work = before.zip(peak).map(|(before, peak)| {
        let held = peak.saturating_sub(before) as f64 - (16 * params) as f64;
        held.max(0.0) / heaviest.max(1.0)
    });
    drop(optimizer);

    let int8 = if device.is_cpu() {
        let mut quantized = model.frozen()?;
        let start = Instant::now();
        quantized.quantize()?;
        let quantize_seconds = start.elapsed().as_secs_f64();
        let per_work = time(&quantized, quantized.takes_packed(), false)?;
        Some(Int8Cost {
            quantize_seconds,
            per_work,
        })
    } else {
        None
    };
    let save_seconds_per_byte = time_save(&model, scratch)?;
    let max_positions = model.max_positions();
    drop(model);
    crate::allocator::release();
    Ok(Some(Measured {
        key: target.key.clone(),
        measured_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        seconds: started.elapsed().as_secs_f64(),
        params,
        hidden,
        intermediate,
        max_positions,
        load_seconds,
        train: train_cost,
        timed_work,
        load_per_core,
        eval_per_work,
        encode_per_work,
        int8,
        save_seconds_per_byte,
        activation_bytes_per_work,
        inference_bytes_per_work,
    }))
}

/// The 1-minute load average per core (Linux), before this process starts measuring.
fn load_per_core() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let load: f64 = text.split_whitespace().next()?.parse().ok()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Some(load / cores as f64)
}

/// Seconds per byte of writing `model`'s weights into a scratch folder in `parent`
/// (where the runs are, so the same disk), removed after.
fn time_save(model: &SequenceClassifier, parent: &Path) -> Result<f64> {
    let dir = parent.join(format!(".estimate-{}", std::process::id()));
    let start = Instant::now();
    let saved = model.save(&dir);
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(dir.join("model.safetensors")).map(|m| m.len());
    let _ = std::fs::remove_dir_all(&dir);
    saved?;
    let bytes = bytes.map_err(|e| EngineError::io(&dir, e))?;
    Ok(seconds / bytes.max(1) as f64)
}

/// The hidden and feed-forward widths in the model folder's `config.json` (BERT's
/// names, or DistilBERT's).
fn shape(dir: &Path) -> Result<(usize, usize)> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| EngineError::io(&path, e))?;
    let config: serde_json::Value = serde_json::from_str(&text)?;
    let field = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| config.get(n).and_then(serde_json::Value::as_u64))
            .map(|v| v as usize)
    };
    let hidden = field(["hidden_size", "dim"]).ok_or_else(|| {
        EngineError::model(
            dir.display().to_string(),
            "config.json names no hidden size",
        )
    })?;
    let intermediate = field(["intermediate_size", "hidden_dim"]).unwrap_or(4 * hidden);
    Ok((hidden, intermediate))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A measurement of `model` on `device` with made-up costs.
    pub(in crate::train::estimate) fn measured(device: &str, model: &str) -> Measured {
        Measured {
            key: Key {
                device: device.into(),
                model: model.into(),
                precision: "f32".into(),
            },
            measured_at: 1_700_000_000,
            seconds: 8.0,
            params: 22_700_000,
            hidden: 384,
            intermediate: 1536,
            max_positions: 512,
            load_seconds: 0.5,
            train: StepCost {
                fixed: 0.05,
                per_work: 4e-4,
            },
            timed_work: (400.0, 2000.0),
            load_per_core: Some(0.1),
            eval_per_work: 1.2e-4,
            encode_per_work: 1.3e-4,
            int8: Some(Int8Cost {
                quantize_seconds: 0.2,
                per_work: 6e-5,
            }),
            save_seconds_per_byte: 2e-9,
            activation_bytes_per_work: Some(250_000.0),
            inference_bytes_per_work: Some(40_000.0),
        }
    }

    #[test]
    fn the_shape_is_read_from_bert_and_distilbert_configs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"hidden_size": 384, "intermediate_size": 1536}"#,
        )
        .unwrap();
        assert_eq!(shape(dir.path()).unwrap(), (384, 1536));
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"dim": 32, "hidden_dim": 64}"#,
        )
        .unwrap();
        assert_eq!(shape(dir.path()).unwrap(), (32, 64));
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        assert!(shape(dir.path()).is_err());
    }
}
