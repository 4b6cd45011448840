//! Int8 prediction on the CPU, and the check that allows it. A model predicts in int8
//! ([`crate::model::int8`]) only after its int8 predictions were compared with its
//! f32 ones on labelled data and lost at most [`MAX_ACCURACY_LOSS`](crate::events::MAX_ACCURACY_LOSS) of accuracy; the
//! comparison is kept in the model's card (`dialect.json`), where [`Predictor`] reads
//! it. Training on the CPU checks the best model on the validation split when it
//! ends; [`check_file`] checks any model on a labelled file.

use crate::dataset::{read_labeled, LabelMap, TextSpec};
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::events::Int8Check;
use crate::inference::{argmax, batched_logits, softmax};
use crate::metrics::Metrics;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::SequenceClassifier;
use crate::model_card::ModelCard;
use crate::predict::{model_dir, PredictionPrecision, Predictor, PREDICT_BATCH};
use std::path::Path;

/// Compare the two precisions of the model in `dir` on encoded rows with their
/// true class indices (the model's label order); `f32_logits`, when the caller
/// has them for these rows, spare the f32 pass.
pub fn measure(
    dir: &Path,
    encoder: &TextEncoder,
    rows: &[Encoded],
    truth: &[usize],
    data: &str,
    f32_logits: Option<&[Vec<f32>]>,
) -> Result<Int8Check> {
    if rows.is_empty() || rows.len() != truth.len() {
        return Err(EngineError::Config(format!(
            "the int8 check needs labelled rows ({} rows, {} labels)",
            rows.len(),
            truth.len()
        )));
    }
    let device = DeviceChoice::Cpu.open()?;
    let mut model = SequenceClassifier::load_frozen(dir, &device)?;
    let labels = model.labels().to_vec();
    let f32_logits = match f32_logits {
        Some(given) if given.len() == rows.len() => given.to_vec(),
        _ => logits(&model, encoder, rows)?,
    };
    model.quantize()?;
    let int8_logits = logits(&model, encoder, rows)?;
    let predicted = |all: &[Vec<f32>]| all.iter().map(|r| argmax(r)).collect::<Vec<_>>();
    let (f32_pred, int8_pred) = (predicted(&f32_logits), predicted(&int8_logits));
    let same = f32_pred
        .iter()
        .zip(&int8_pred)
        .filter(|(a, b)| a == b)
        .count();
    let max_probability_change = f32_logits
        .iter()
        .zip(&int8_logits)
        .flat_map(|(a, b)| {
            let (a, b) = (softmax(a), softmax(b));
            a.into_iter().zip(b).map(|(a, b)| (a - b).abs())
        })
        .fold(0f32, f32::max);
    let (f32_metrics, int8_metrics) = (
        Metrics::compute(&labels, truth, &f32_pred),
        Metrics::compute(&labels, truth, &int8_pred),
    );
    Ok(Int8Check {
        data: data.to_string(),
        rows: rows.len(),
        agreement: same as f64 / rows.len() as f64,
        f32_accuracy: f32_metrics.accuracy,
        int8_accuracy: int8_metrics.accuracy,
        f32_macro_f1: f32_metrics.macro_f1,
        int8_macro_f1: int8_metrics.macro_f1,
        max_probability_change,
    })
}

fn logits(
    model: &SequenceClassifier,
    encoder: &TextEncoder,
    rows: &[Encoded],
) -> Result<Vec<Vec<f32>>> {
    Ok(batched_logits(model, encoder, rows, PREDICT_BATCH, None)?.unwrap_or_default())
}

/// Check int8 against f32 for the model in `dir` on a labelled file (labels mapped
/// through `map` when given; text composed per `text`), and record the result in the
/// model's card. Refused for a multi-label model (it predicts in f32).
pub fn check_file(
    dir: &Path,
    path: &Path,
    text: &TextSpec,
    label_column: &str,
    map: Option<&LabelMap>,
) -> Result<Int8Check> {
    let dir = &model_dir(dir)?;
    let predictor = Predictor::load_with(dir, DeviceChoice::Cpu, Some(PredictionPrecision::F32))?;
    predictor.refuse_multi_label("the int8 check (the accuracy of one class per ticket)")?;
    let data = read_labeled(path, text, label_column, map)?;
    let truth = predictor.label_indices(path, &data)?;
    let texts: Vec<String> = data.examples.iter().map(|e| e.text.clone()).collect();
    let rows = predictor.encode(&texts)?;
    let check = measure(
        dir,
        predictor.encoder(),
        &rows,
        &truth,
        &path.display().to_string(),
        Some(&predictor.logits(&rows)?),
    )?;
    ModelCard::record_int8(dir, &check)?;
    Ok(check)
}
