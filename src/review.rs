//! Looking back at a run: its best model's predictions on the run's own validation
//! rows, row by row, so an analyst can open any cell of the confusion matrix.

use crate::dataset::Example;
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::metrics::Metrics;
use crate::predict::Predictor;
use crate::runs::RunStore;
use serde::{Deserialize, Serialize};

/// One validation row as the model saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewedRow {
    /// Line in the data file where the row starts.
    pub line: usize,
    pub text: String,
    pub truth: String,
    pub predicted: String,
    /// Probability of the predicted class.
    pub confidence: f32,
}

/// Metrics and per-row predictions on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub labels: Vec<String>,
    pub metrics: Metrics,
    pub rows: Vec<ReviewedRow>,
}

/// Classify `examples` with `predictor` and score them. Rows whose label the model
/// does not know are an error naming the label.
pub fn review(predictor: &Predictor, examples: &[Example]) -> Result<Review> {
    let labels = predictor.labels().to_vec();
    let index = |label: &str| labels.iter().position(|l| l == label);
    let truth = examples
        .iter()
        .map(|e| {
            index(&e.label).ok_or_else(|| {
                EngineError::Config(format!(
                    "line {}: label '{}' is not a class of this model ({})",
                    e.line,
                    e.label,
                    labels.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let predictions = predictor.predict(&texts)?;
    let predicted: Vec<usize> = predictions
        .iter()
        .map(|p| index(&p.label).unwrap_or(0))
        .collect();
    let rows = examples
        .iter()
        .zip(&predictions)
        .map(|(e, p)| ReviewedRow {
            line: e.line,
            text: e.text.clone(),
            truth: e.label.clone(),
            predicted: p.label.clone(),
            confidence: p.confidence,
        })
        .collect();
    Ok(Review {
        metrics: Metrics::compute(&labels, &truth, &predicted),
        labels,
        rows,
    })
}

/// Review run `id`'s best model on the validation rows it was scored on: the same
/// file, mapping, sample and split (seeded), re-read from disk.
pub fn review_run(store: &RunStore, id: &str, device: DeviceChoice) -> Result<Review> {
    let record = store.get(id)?;
    let loaded = record
        .data
        .load(record.config.validation_fraction, record.config.seed, true)?;
    let predictor = Predictor::load(&store.model_dir(id)?, device)?;
    review(&predictor, &loaded.data.validation)
}
