//! The one event type that travels engine → CLI / app → UI.

use crate::calibration::Calibration;
use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Per-epoch record of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub eval_loss: f64,
    pub metrics: Metrics,
    pub seconds: f64,
    pub samples_per_second: f64,
}

/// What a finished (or cancelled) run achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub output_dir: PathBuf,
    pub labels: Vec<String>,
    pub epochs: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub best_metric: String,
    pub best_value: Option<f64>,
    pub steps: usize,
    pub seconds: f64,
    pub cancelled: bool,
    pub stopped_early: bool,
    pub device: String,
}

/// Progress of a training run, in order: `Started`, then `Step`s with an `Evaluated`
/// (and maybe `CheckpointSaved`) after each epoch, then one of `Finished`,
/// `Cancelled`, `Failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TrainEvent {
    Started {
        model: String,
        device: String,
        labels: Vec<String>,
        train_rows: usize,
        validation_rows: usize,
        epochs: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        max_length: usize,
        /// Training texts longer than `max_length` tokens (cut by truncation).
        truncated_rows: usize,
        newly_initialised: Vec<String>,
        /// The compute precision: "f32" or "bf16" (mixed, f32 master weights).
        #[serde(default)]
        precision: String,
        /// Whether the run trains on label sets (multi-label): then each evaluation's
        /// `accuracy` is the subset accuracy.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        #[ts(optional, as = "Option<bool>")]
        multi_label: bool,
    },
    /// The baseline method encoding texts with the frozen encoder (`done` of `total`).
    Encoding {
        done: usize,
        total: usize,
    },
    Step {
        epoch: usize,
        step: usize,
        total_steps: usize,
        loss: f64,
        learning_rate: f64,
        grad_norm: f64,
        samples_per_second: f64,
    },
    Evaluated {
        epoch: usize,
        step: usize,
        train_loss: f64,
        eval_loss: f64,
        samples_per_second: f64,
        /// For a multi-label run: sets drawn at 0.5, `accuracy` the subset accuracy,
        /// `eval_loss` the binary cross-entropy.
        metrics: Metrics,
    },
    CheckpointSaved {
        epoch: usize,
        metric: String,
        value: f64,
        path: PathBuf,
    },
    /// How int8 prediction compared with f32 on the validation split for the best
    /// model (CPU runs, before `Finished`); kept in the model's card.
    Int8Checked {
        check: Int8Check,
    },
    /// The temperature fitted on the validation split for the best model, with the
    /// calibration error before and after (before `Finished`); kept in its card.
    Calibrated {
        calibration: Calibration,
    },
    /// A multi-label run's per-label thresholds, tuned on the validation split for the
    /// best model (each label's best F1), with the validation metrics they give
    /// (before `Finished`; the thresholds are in `metrics.labelSets`); kept in its card.
    ThresholdsTuned {
        metrics: Metrics,
    },
    Finished {
        summary: RunSummary,
    },
    Cancelled {
        step: usize,
        summary: RunSummary,
    },
    Failed {
        message: String,
    },
}

/// The most accuracy (a fraction: 0.005 is half a point) int8 may lose against f32 on
/// the check's rows for a model to predict in int8 by default.
pub const MAX_ACCURACY_LOSS: f64 = 0.005;

/// What int8 prediction changed against f32 on labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Int8Check {
    /// Where the rows came from: "validation split" or the file's path.
    pub data: String,
    pub rows: usize,
    /// The share of rows whose predicted class is the same in int8 as in f32.
    pub agreement: f64,
    pub f32_accuracy: f64,
    pub int8_accuracy: f64,
    pub f32_macro_f1: f64,
    pub int8_macro_f1: f64,
    /// The largest change of any class's probability on any row.
    pub max_probability_change: f32,
}

impl Int8Check {
    /// Whether int8 kept the accuracy within [`MAX_ACCURACY_LOSS`] of f32's.
    pub fn passed(&self) -> bool {
        self.f32_accuracy - self.int8_accuracy <= MAX_ACCURACY_LOSS
    }
}
