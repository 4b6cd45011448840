//! One call that tells an analyst what is in a file and what is wrong with it: the
//! profile, the text/label mapping in use (given or suggested), label merge
//! suggestions and the quality report.

use super::labels::{LabelMap, MergeSuggestion};
use super::profile::{profile_file, Profile};
use super::quality::{assess, QualityReport, Truncation};
use super::{read_labeled, LabeledData, TextSpec};
use crate::error::{EngineError, Result};
use crate::model::tokenize::TextEncoder;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What to inspect with; everything optional.
#[derive(Default)]
pub struct InspectOptions<'a> {
    /// Text columns; the profile's suggestion when `None`.
    pub text: Option<TextSpec>,
    /// Label column; the profile's suggestion when `None`.
    pub label_column: Option<String>,
    pub label_map: Option<&'a LabelMap>,
    /// A separate validation file (enables the leakage check).
    pub validation: Option<&'a Path>,
    /// The model's tokenizer (enables the truncation check).
    pub encoder: Option<&'a TextEncoder>,
}

/// The result of [`inspect`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub profile: Profile,
    /// The text spec and label column used for the report (given or suggested).
    pub text: Option<TextSpec>,
    pub label_column: Option<String>,
    /// Usable rows and their (mapped) labels with counts.
    pub rows_used: usize,
    pub raw_labels: Vec<(String, usize)>,
    pub merges: Vec<MergeSuggestion>,
    pub report: Option<QualityReport>,
    /// Why there is no report (no text or label column found), if so.
    pub note: Option<String>,
}

/// Profile `path` and, when text and label columns are known or can be suggested,
/// read it with them and assess its quality.
pub fn inspect(path: &Path, options: &InspectOptions) -> Result<Inspection> {
    let profile = profile_file(path)?;
    let text = options
        .text
        .clone()
        .or_else(|| profile.suggested_text.as_deref().map(TextSpec::column));
    let label_column = options
        .label_column
        .clone()
        .or_else(|| profile.suggested_label.clone());
    let mut inspection = Inspection {
        profile,
        text: text.clone(),
        label_column: label_column.clone(),
        rows_used: 0,
        raw_labels: Vec::new(),
        merges: Vec::new(),
        report: None,
        note: None,
    };
    let (Some(text), Some(label_column)) = (text, label_column) else {
        inspection.note = Some(format!(
            "no {} column could be recognised: pick one with {}",
            if inspection.text.is_none() {
                "free-text"
            } else {
                "label"
            },
            if inspection.text.is_none() {
                "--text-column"
            } else {
                "--label-column"
            }
        ));
        return Ok(inspection);
    };
    let data = read_labeled(path, &text, &label_column, options.label_map)?;
    let validation = match options.validation {
        Some(v) => Some(read_labeled(v, &text, &label_column, options.label_map)?.examples),
        None => None,
    };
    let token_counts = match options.encoder {
        Some(enc) => Some(token_counts(enc, &data)?),
        None => None,
    };
    let truncation = match (&token_counts, options.encoder) {
        (Some(counts), Some(enc)) => Some(Truncation {
            token_counts: counts,
            max_length: enc.max_length(),
        }),
        _ => None,
    };
    inspection.report = Some(assess(&data, validation.as_deref(), truncation));
    inspection.rows_used = data.examples.len();
    inspection.merges = LabelMap::suggest_merges(&data.raw_label_counts);
    let mut raw: Vec<(String, usize)> = data.raw_label_counts.into_iter().collect();
    raw.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    inspection.raw_labels = raw;
    Ok(inspection)
}

fn token_counts(encoder: &TextEncoder, data: &LabeledData) -> Result<Vec<usize>> {
    let texts: Vec<String> = data.examples.iter().map(|e| e.text.clone()).collect();
    encoder
        .token_counts(&texts)
        .map_err(|e| EngineError::Tokenizer(format!("while measuring text lengths: {e}")))
}
