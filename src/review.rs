//! Looking back at a run: its best model's predictions on the run's own validation
//! rows, row by row, so an analyst can open any cell of the confusion matrix. The rows
//! are checked against the fingerprint the run recorded: a review never passes rows
//! the model may have trained on off as its validation set.

use crate::dataset::{read_labeled_as, Example};
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::fingerprint::{file_sha256, label_map_sha256, DataFingerprint, RowId};
use crate::metrics::Metrics;
use crate::model_card::ModelCard;
use crate::predict::PredictionPrecision;
use crate::predict::{Predictor, Truth};
use crate::routing::{check_threshold, RoutingThreshold, Trust};
use crate::runs::{RunRecord, RunStore};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One validation row as the model saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ReviewedRow {
    /// Line in the data file where the row starts.
    pub line: usize,
    pub text: String,
    /// The true class (for label sets: the set joined by `"; "`).
    pub truth: String,
    /// The predicted class (for label sets: the set joined by `"; "`).
    pub predicted: String,
    /// Probability of the predicted class (for label sets: the highest label's).
    pub confidence: f32,
}

/// Metrics and per-row predictions on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub labels: Vec<String>,
    pub metrics: Metrics,
    pub rows: Vec<ReviewedRow>,
    /// Whether these are provably the rows the run was validated on.
    pub validation: ValidationCheck,
    /// Calibration (the model's temperature on these rows: for a run's validation
    /// rows, the rows it was fitted on) and coverage against accuracy; `None` for a
    /// multi-label model.
    pub trust: Option<Trust>,
}

/// How a review's rows relate to the run's validation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ValidationCheck {
    /// The very rows the run was validated on, checked against its fingerprint;
    /// `note` says when a file changed since without touching those rows.
    Verified { note: Option<String> },
    /// The run was recorded without a fingerprint (by an older Dialect): the rows are
    /// a fresh split of the file as it is now and may include rows it trained on.
    NotVerifiable { reason: String },
}

/// Classify `examples` with `predictor` and score them, with `validation` saying
/// what the rows are. Rows whose label the model does not know are an error naming
/// the label.
pub fn review(
    predictor: &Predictor,
    examples: &[Example],
    validation: ValidationCheck,
) -> Result<Review> {
    let labels = predictor.labels().to_vec();
    let index = |e: &Example, label: &str| {
        labels.iter().position(|l| l == label).ok_or_else(|| {
            EngineError::Config(format!(
                "line {}: label '{label}' is not a class of this model ({})",
                e.line,
                labels.join(", ")
            ))
        })
    };
    let truth = if predictor.is_multi_label() {
        let flags = |e: &Example| {
            let mut on = vec![false; labels.len()];
            for class in e.classes() {
                on[index(e, class)?] = true;
            }
            Ok(on)
        };
        Truth::Sets(examples.iter().map(flags).collect::<Result<_>>()?)
    } else {
        Truth::Classes(
            examples
                .iter()
                .map(|e| index(e, &e.label))
                .collect::<Result<_>>()?,
        )
    };
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let logits = predictor.logits(&predictor.encode(&texts)?)?;
    let evaluation = predictor.evaluation(&logits, &truth);
    let rows = examples
        .iter()
        .zip(&logits)
        .map(|(e, row)| {
            let p = predictor.prediction(row);
            ReviewedRow {
                line: e.line,
                text: e.text.clone(),
                truth: e.label.clone(),
                predicted: p.label,
                confidence: p.confidence,
            }
        })
        .collect();
    Ok(Review {
        metrics: evaluation.metrics,
        trust: evaluation.trust,
        labels,
        rows,
        validation,
    })
}

/// Review run `id`'s best model, in f32, on the validation rows it was scored on, re-read
/// from its data file at the lines recorded when it started. Refused with
/// [`EngineError::DataChanged`] when the files no longer hold those rows. Runs recorded
/// without a fingerprint are re-split (same file, mapping, sample and seed) and the
/// review says it cannot verify them.
pub fn review_run(store: &RunStore, id: &str, device: DeviceChoice) -> Result<Review> {
    let record = store.get(id)?;
    let (examples, validation) = match &record.fingerprint {
        Some(fingerprint) => {
            let ids = store.validation_rows(id)?;
            let (examples, note) = recorded_rows(&record, fingerprint, &ids)?;
            (examples, ValidationCheck::Verified { note })
        }
        None => {
            let loaded = record.data.load(true)?;
            let reason = "this run was recorded by an older Dialect without a fingerprint of its data, so these rows are a fresh split of the file as it is now: if the file changed since, they may include rows the model trained on".to_string();
            (
                loaded.data.validation,
                ValidationCheck::NotVerifiable { reason },
            )
        }
    };
    // In f32, as training scored these rows.
    let predictor = Predictor::load_with(
        &store.model_dir(id)?,
        device,
        Some(PredictionPrecision::F32),
    )?;
    review(&predictor, &examples, validation)
}

/// How a routing threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdChoice {
    /// This threshold.
    At(f64),
    /// The lowest threshold whose handled tickets are at least this accurate.
    ForAccuracy(f64),
}

impl ThresholdChoice {
    /// The choice a person made: an accuracy to reach, else a threshold, else none.
    pub fn given(threshold: Option<f64>, accuracy: Option<f64>) -> Option<Self> {
        match (threshold, accuracy) {
            (_, Some(a)) => Some(ThresholdChoice::ForAccuracy(a)),
            (Some(t), None) => Some(ThresholdChoice::At(t)),
            (None, None) => None,
        }
    }

    /// The threshold chosen on `trust`'s overall curve, with its operating point there.
    pub fn on(self, trust: &Trust) -> Result<RoutingThreshold> {
        let curve = &trust.coverage.overall;
        let point = match self {
            ThresholdChoice::At(t) => curve.at(check_threshold(t)?),
            ThresholdChoice::ForAccuracy(a) => {
                let a = check_threshold(a)?;
                curve.for_accuracy(a).ok_or_else(|| {
                    EngineError::Config(format!(
                        "no threshold reaches {:.1}% accuracy on these {} rows: even the model's \
                         most confident tickets are right less often than that. Choose a \
                         lower accuracy",
                        100.0 * a,
                        curve.rows
                    ))
                })?
            }
        };
        Ok(RoutingThreshold {
            threshold: point.threshold,
            chosen_on: Some(point),
        })
    }
}

/// Keep a routing threshold in run `id`'s model card, chosen on its validation rows
/// (reviewed here), and return it; `None` clears the threshold.
pub fn keep_run_threshold(
    store: &RunStore,
    id: &str,
    choice: Option<ThresholdChoice>,
    device: DeviceChoice,
) -> Result<Option<RoutingThreshold>> {
    let routing = match choice {
        Some(choice) => {
            let trust = review_run(store, id, device)?.trust.ok_or_else(|| {
                EngineError::Config(format!(
                    "run {id} predicts label sets (multi-label): a routing threshold (the top \
                     probability of one class) does not apply; each label has its own threshold"
                ))
            })?;
            Some(choice.on(&trust)?)
        }
        None => None,
    };
    ModelCard::record_routing(&store.model_dir(id)?, routing.as_ref())?;
    Ok(routing)
}

/// The rows `ids` re-read from `record`'s data, each checked against its recorded
/// hash, with a note when a file changed without touching them.
fn recorded_rows(
    record: &RunRecord,
    fingerprint: &DataFingerprint,
    ids: &[RowId],
) -> Result<(Vec<Example>, Option<String>)> {
    let spec = &record.data;
    let run = &record.id;
    let map_hash = spec.label_map.as_ref().map(label_map_sha256).transpose()?;
    if map_hash != fingerprint.label_map_sha256 {
        return Err(EngineError::DataChanged {
            path: spec.path.clone(),
            message: format!("the label map recorded with run {run} was edited since it trained, so its validation rows cannot be re-read as they were scored"),
        });
    }
    if ids.len() != fingerprint.validation_rows {
        return Err(EngineError::DataChanged {
            path: spec.path.clone(),
            message: format!(
                "run {run} lists {} validation rows but recorded {}: its run folder was altered",
                ids.len(),
                fingerprint.validation_rows
            ),
        });
    }
    let mut files = vec![(&spec.path, &fingerprint.data_sha256)];
    if let (Some(path), Some(hash)) = (&spec.validation, &fingerprint.validation_sha256) {
        files.push((path, hash));
    }
    let mut changed = Vec::new();
    for (path, hash) in files {
        if file_sha256(path)? != *hash {
            changed.push(path.display().to_string());
        }
    }
    let source = spec.validation.as_ref().unwrap_or(&spec.path);
    let data = read_labeled_as(
        source,
        &spec.text,
        &spec.label_column,
        &spec.label_form,
        spec.label_map.as_ref(),
    )?;
    // Scored with the corrections the run trained with (each file's own).
    let examples = match (&spec.validation, &spec.validation_corrections) {
        (Some(_), None) => data.examples,
        (Some(_), Some(own)) => own.resolve(&data.examples).apply(data.examples),
        (None, _) => spec
            .resolve_corrections(&data.examples)
            .apply(data.examples),
    };
    let mut by_line: HashMap<usize, Example> = examples.into_iter().map(|e| (e.line, e)).collect();
    let mut rows = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match by_line.remove(&id.line()) {
            Some(e) if RowId::of(&e) == *id => rows.push(e),
            _ => missing.push(id.line()),
        }
    }
    if let Some(first) = missing.first() {
        return Err(EngineError::DataChanged {
            path: source.clone(),
            message: format!(
                "changed since run {run} trained: {} of its {} validation rows are gone or different (first: line {first}), so the rows at hand are not the ones it was scored on and may include rows it trained on. Restore the file as it was, or train a new run on it",
                missing.len(),
                ids.len()
            ),
        });
    }
    let note = (!changed.is_empty()).then(|| {
        format!(
            "{} changed since the run trained, but all {} of its validation rows are unchanged",
            changed.join(" and "),
            ids.len()
        )
    });
    Ok((rows, note))
}
