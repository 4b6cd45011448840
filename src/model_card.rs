//! The model card: Dialect's own record next to a saved model (`dialect.json`), with
//! the settings and results of the run that trained it and its int8 check.

use crate::atomic::write_atomic;
use crate::calibration::Calibration;
use crate::dataset::TextSpec;
use crate::error::{EngineError, Result};
use crate::events::{Int8Check, RunSummary};
use crate::metrics::Metrics;
use crate::multi_label::{probabilities, tune_thresholds};
use crate::routing::RoutingThreshold;
use crate::settings::TrainConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Dialect's own record next to a saved model (`dialect.json`): how it was trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
    pub base_model: String,
    pub max_length: usize,
    pub labels: Vec<String>,
    /// The columns (and separator) the training texts were composed from; absent in
    /// cards written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSpec>,
    pub config: TrainConfig,
    pub summary: Option<RunSummary>,
    /// How int8 prediction compared with f32 on labelled data, once checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<Int8Check>,
    /// The temperature fitted on the validation split (probabilities are
    /// `softmax(logits / temperature)`; the logits themselves are unchanged), once fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Tickets whose top probability is below this threshold go to a person, once an
    /// analyst chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingThreshold>,
    /// For a multi-label model: each label's threshold and the validation metrics
    /// with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_label: Option<MultiLabelCard>,
}

/// A multi-label model's thresholds: a label applies when its probability (sigmoid of
/// its logit) is at least its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiLabelCard {
    /// One per label, in label order (tuned on validation, else 0.5).
    pub thresholds: Vec<f32>,
    /// The validation metrics with these thresholds, once tuned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
}

impl MultiLabelCard {
    /// Each label's threshold tuned on `logits` against `truth` ([`tune_thresholds`]),
    /// with the metrics they give.
    pub fn tuned(labels: &[String], logits: &[Vec<f32>], truth: &[Vec<bool>]) -> Self {
        let thresholds = tune_thresholds(&probabilities(logits), truth, labels.len());
        let metrics = Metrics::of_label_set_logits(labels, logits, truth, &thresholds);
        Self {
            thresholds,
            metrics: Some(metrics),
        }
    }
}

impl ModelCard {
    const FILE: &'static str = "dialect.json";

    /// Write atomically into a model folder.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(
            &dir.join(Self::FILE),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )
    }

    /// Read from a model folder, if present and valid.
    pub fn load(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(Self::FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Keep `check` in the card of the model in `dir` (replacing an earlier one).
    pub fn record_int8(dir: &Path, check: &Int8Check) -> Result<()> {
        Self::update(dir, "the int8 check", |card| {
            card.int8 = Some(check.clone())
        })
    }

    /// Keep `calibration` in the card of the model in `dir` (replacing an earlier one).
    pub fn record_calibration(dir: &Path, calibration: &Calibration) -> Result<()> {
        Self::update(dir, "the calibration", |card| {
            card.calibration = Some(calibration.clone())
        })
    }

    /// Keep `routing` in the card of the model in `dir` (`None` clears it).
    pub fn record_routing(dir: &Path, routing: Option<&RoutingThreshold>) -> Result<()> {
        Self::update(dir, "the routing threshold", |card| {
            card.routing = routing.cloned()
        })
    }

    /// Keep `card` (tuned thresholds) in the card of the model in `dir`.
    pub fn record_multi_label(dir: &Path, card: &MultiLabelCard) -> Result<()> {
        Self::update(dir, "the label thresholds", |c| {
            c.multi_label = Some(card.clone())
        })
    }

    /// Change the card of the model in `dir` with `change` and write it back; `what`
    /// names the change in the error when the card cannot be read.
    fn update(dir: &Path, what: &str, change: impl FnOnce(&mut Self)) -> Result<()> {
        let mut card = Self::load(dir).ok_or_else(|| {
            EngineError::Config(format!(
                "{} has no readable dialect.json to record {what} in",
                dir.display()
            ))
        })?;
        change(&mut card);
        card.save(dir)
    }

    /// The temperature its probabilities use (1 when none was fitted).
    pub fn temperature(&self) -> f64 {
        self.calibration.as_ref().map_or(1.0, |c| c.temperature)
    }
}
