//! The one event type that travels engine → CLI / app → UI.

use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Per-epoch record of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        check: crate::quantize::Int8Check,
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
