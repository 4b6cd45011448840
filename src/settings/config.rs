//! The training configuration and its choices, with the defaults of the classic
//! transformers Trainer recipe.

use super::imbalance::{ClassWeights, Sampler};
use super::limits::LIMITS;
use crate::device::{device_name, supports_bf16, DeviceChoice};
use crate::error::{EngineError, Result};
use crate::setting::Setting;
use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The text column read when none is named.
pub const DEFAULT_TEXT_COLUMN: &str = "text";
/// The label column read when none is named.
pub const DEFAULT_LABEL_COLUMN: &str = "label";

/// Which validation metric picks the best checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum BestMetric {
    /// Accuracy (for label sets: subset accuracy).
    #[default]
    Accuracy,
    MacroF1,
    /// Micro-F1: counts pooled over labels (for one class per ticket it equals
    /// accuracy).
    MicroF1,
}

impl std::str::FromStr for BestMetric {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "accuracy" | "acc" => Ok(Self::Accuracy),
            "macrof1" | "f1" => Ok(Self::MacroF1),
            "microf1" => Ok(Self::MicroF1),
            other => Err(EngineError::Config(format!(
                "unknown metric '{other}': use accuracy, macro-f1 or micro-f1"
            ))),
        }
    }
}

impl BestMetric {
    /// This metric's value in `metrics`.
    pub fn value(self, metrics: &crate::metrics::Metrics) -> f64 {
        match self {
            Self::Accuracy => metrics.accuracy,
            Self::MacroF1 => metrics.macro_f1,
            Self::MicroF1 => metrics
                .label_sets
                .as_ref()
                .map_or(metrics.accuracy, |s| s.micro_f1),
        }
    }

    /// Its name as the CLI takes it.
    pub fn flag_name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::MacroF1 => "macro-f1",
            Self::MicroF1 => "micro-f1",
        }
    }

    /// The metric's display name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::MacroF1 => "macro-F1",
            Self::MicroF1 => "micro-F1",
        }
    }
}

/// Numeric precision of the forward and backward passes. Weights, gradients and the
/// optimiser state are always f32 ("master weights"); bf16 only changes the compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bf16 mixed precision where the device runs it natively (CUDA, compute
    /// capability ≥ 8.0), f32 elsewhere.
    #[default]
    Auto,
    /// f32 throughout (on CUDA, matrix products may use TF32 tensor cores).
    F32,
    /// bf16 matrix products and activations, f32 layer norms, softmax statistics,
    /// loss, weights and optimiser state.
    Bf16,
}

impl std::str::FromStr for Precision {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            other => Err(EngineError::Config(format!(
                "unknown precision '{other}': use auto, f32 or bf16"
            ))),
        }
    }
}

impl Precision {
    /// Its name as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }

    /// The compute dtype on `device`. Asking for bf16 where it is not supported is an
    /// error that says why.
    pub fn compute_dtype(self, device: &Device) -> Result<DType> {
        match self {
            Self::F32 => Ok(DType::F32),
            Self::Auto if supports_bf16(device) => Ok(DType::BF16),
            Self::Auto => Ok(DType::F32),
            Self::Bf16 if supports_bf16(device) => Ok(DType::BF16),
            Self::Bf16 => Err(EngineError::Config(format!(
                "bf16 mixed precision needs an NVIDIA GPU of compute capability 8.0 or newer \
                 (Ampere, Hopper, ...); this run is on {}: use precision f32 or auto",
                device_name(device)
            ))),
        }
    }
}

/// How a run learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// Fine-tune every weight (the transformers Trainer recipe).
    #[default]
    FineTune,
    /// The instant baseline: encode each text once with the frozen encoder (mean of
    /// its token vectors) and fit a linear classifier on those features.
    Baseline,
}

impl std::str::FromStr for Method {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "finetune" | "full" => Ok(Self::FineTune),
            "baseline" | "quick" => Ok(Self::Baseline),
            other => Err(EngineError::Config(format!(
                "unknown method '{other}': use fine-tune or baseline"
            ))),
        }
    }
}

/// Everything that shapes a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct TrainConfig {
    /// Base model: local folder or hub id.
    pub model: String,
    /// Folder the best model is written to (Hugging Face layout); no default: a run
    /// store sets it to the run's folder.
    pub output_dir: PathBuf,
    pub epochs: usize,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub warmup_steps: usize,
    pub max_grad_norm: f64,
    /// Truncation length in tokens (capped at the model's position limit).
    pub max_length: usize,
    pub seed: u64,
    pub best_metric: BestMetric,
    /// Stop after this many evaluations without improvement; `None` = never.
    pub early_stopping_patience: Option<usize>,
    /// Batch rows of similar length together (transformers' `LengthGroupedSampler`):
    /// less padding on GPUs (CPU batches have none), but batches then mix classes
    /// less, which widened the spread of accuracy over seeds (bench/README.md). Off
    /// by default: rows in random order, as the Trainer feeds them.
    pub group_by_length: bool,
    /// How each class's rows weigh in the loss (for a few big classes and a long
    /// tail); off by default, as the recipe.
    pub class_weights: ClassWeights,
    /// Which rows each epoch feeds: all once, shuffled (the recipe), or drawn so that
    /// classes appear about equally often. Fine-tuning only: the baseline fits on all
    /// rows at once.
    pub sampler: Sampler,
    pub device: DeviceChoice,
    pub precision: Precision,
    pub method: Method,
    /// Replace a classification head the base model already has when its shape does
    /// not fit the classes (otherwise that is an error).
    pub new_head: bool,
    /// Folder for the resumable state written after each epoch (a run store sets it
    /// to the run's folder); `None` = no checkpoints, no resume.
    pub checkpoint_dir: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: crate::model::resolve::DEFAULT_MODEL.into(),
            output_dir: PathBuf::new(),
            epochs: 3,
            batch_size: 16,
            eval_batch_size: 64,
            learning_rate: 2e-5,
            weight_decay: 0.01,
            warmup_steps: 0,
            max_grad_norm: 1.0,
            max_length: 128,
            seed: 42,
            best_metric: BestMetric::Accuracy,
            early_stopping_patience: None,
            group_by_length: false,
            class_weights: ClassWeights::None,
            sampler: Sampler::Shuffle,
            device: DeviceChoice::Auto,
            precision: Precision::Auto,
            method: Method::FineTune,
            new_head: false,
            checkpoint_dir: None,
        }
    }
}

impl TrainConfig {
    /// Reject settings that cannot train or are out of [`LIMITS`], with a message
    /// naming the setting.
    pub fn validate(&self) -> Result<()> {
        let l = &LIMITS;
        l.epochs.check(Setting::Epochs, self.epochs)?;
        l.batch_size.check(Setting::BatchSize, self.batch_size)?;
        l.eval_batch_size
            .check(Setting::EvalBatchSize, self.eval_batch_size)?;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(EngineError::setting(
                Setting::LearningRate,
                format!(
                    "Learning rate: must be positive, got {}",
                    self.learning_rate
                ),
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(EngineError::setting(
                Setting::WeightDecay,
                format!("Weight decay: must be ≥ 0, got {}", self.weight_decay),
            ));
        }
        if self.max_grad_norm.is_nan() || self.max_grad_norm <= 0.0 {
            return Err(EngineError::setting(
                Setting::MaxGradNorm,
                format!(
                    "Max gradient norm: must be positive, got {}",
                    self.max_grad_norm
                ),
            ));
        }
        l.warmup_steps
            .check(Setting::WarmupSteps, self.warmup_steps)?;
        l.max_length.check(Setting::MaxLength, self.max_length)?;
        if let Some(patience) = self.early_stopping_patience {
            l.early_stopping_patience
                .check(Setting::EarlyStoppingPatience, patience)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_f1_is_pooled_over_labels_and_accuracy_for_one_class_per_ticket() {
        let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            "micro-f1".parse::<BestMetric>().unwrap(),
            BestMetric::MicroF1
        );
        let single = crate::metrics::Metrics::compute(&labels, &[0, 1, 1], &[0, 1, 0]);
        assert_eq!(BestMetric::MicroF1.value(&single), single.accuracy);
        // tp 2, fp 1, fn 1 → 4/6; neither set is exactly right: subset accuracy 0.
        let sets = crate::metrics::Metrics::of_label_sets(
            &labels,
            &[vec![true, true], vec![false, true]],
            &[vec![true, false], vec![true, true]],
            &[0.5, 0.5],
        );
        assert!((BestMetric::MicroF1.value(&sets) - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(BestMetric::Accuracy.value(&sets), 0.0);
    }

    fn error(config: TrainConfig) -> String {
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_config_recorded_before_the_imbalance_options_loads_without_them() {
        let older = r#"{"model": "m", "epochs": 2, "bestMetric": "macroF1"}"#;
        let config: TrainConfig = serde_json::from_str(older).unwrap();
        assert_eq!(config.class_weights, ClassWeights::None);
        assert_eq!(config.sampler, Sampler::Shuffle);
        assert_eq!(config.epochs, 2);
        let newer = r#"{"classWeights": "effective", "sampler": "balanced"}"#;
        let config: TrainConfig = serde_json::from_str(newer).unwrap();
        assert_eq!(
            (config.class_weights, config.sampler),
            (ClassWeights::Effective, Sampler::Balanced)
        );
    }

    #[test]
    fn settings_past_their_bounds_are_refused_naming_the_setting_and_range() {
        assert!(TrainConfig::default().validate().is_ok());
        let d = TrainConfig::default;
        let cases = [
            (
                TrainConfig {
                    epochs: 1_000_000,
                    ..d()
                },
                "Epochs: must be between 1 and 1000",
            ),
            (
                TrainConfig { epochs: 0, ..d() },
                "Epochs: must be between 1 and 1000",
            ),
            (
                TrainConfig {
                    batch_size: usize::MAX,
                    ..d()
                },
                "Batch size: must be between 1 and 1024",
            ),
            (
                TrainConfig {
                    eval_batch_size: 1 << 40,
                    ..d()
                },
                "Evaluation batch size: must be between 1 and 4096",
            ),
            (
                TrainConfig {
                    max_length: 1 << 30,
                    ..d()
                },
                "Max length: must be between 8 and 8192",
            ),
            (
                TrainConfig {
                    warmup_steps: usize::MAX,
                    ..d()
                },
                "Warm-up steps: must be between 0 and 1000000",
            ),
            (
                TrainConfig {
                    early_stopping_patience: Some(1 << 20),
                    ..d()
                },
                "Early stopping: must be between 1 and 100",
            ),
        ];
        for (config, want) in cases {
            let got = error(config);
            assert!(got.contains(want), "'{got}' should contain '{want}'");
        }
    }
}
