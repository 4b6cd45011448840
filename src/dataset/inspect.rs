//! One call that tells an analyst what is in a file and what is wrong with it: the
//! profile, the text/label mapping in use (given or suggested), label merge
//! suggestions and the quality report, including truncation for a model and leakage
//! across the validation split training will make.
//!
//! [`inspect`] does it all at once. [`FileRows`] splits it for an interactive caller:
//! read the file once (cancellably), then inspect it again for each label map, model
//! or split without reading it again.

use super::corrections::{CorrectionReport, Corrections, Resolved};
use super::label_form::LabelForm;
use super::label_set;
use super::labels::{LabelMap, MergeSuggestion};
use super::language::{language_report, ChosenModel, LanguageReport};
use super::profile::{profile_file_with, Profile};
use super::quality::{assess, leakage, QualityReport, Truncation, MAX_CLASSES};
use super::read::{read_raw_as, RawRows};
use super::split::holdout;
use super::validation::{read_validation, ValidationRead};
use super::TextSpec;
use crate::error::{EngineError, Result};
use crate::model::tokenize::TextEncoder;
use crate::pii::{survey, PiiSurvey};
use crate::setting::Setting;
use crate::settings::SplitPlan;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to inspect with; everything optional.
#[derive(Default)]
pub struct InspectOptions<'a> {
    /// Text columns; the profile's suggestion when `None`.
    pub text: Option<TextSpec>,
    /// Label column; the profile's suggestion when `None`.
    pub label_column: Option<String>,
    /// How the file holds its labels (single by default).
    pub label_form: LabelForm,
    pub label_map: Option<&'a LabelMap>,
    /// A separate validation file (enables the leakage check across the two files).
    pub validation: Option<&'a Path>,
    /// The model's tokenizer (enables the truncation check).
    pub encoder: Option<&'a TextEncoder>,
    /// The split training will hold out when there is no validation file (enables the
    /// leakage check across its two sides).
    pub split: Option<SplitPlan>,
    /// Fixes to single tickets, applied after the label map.
    pub corrections: Option<&'a Corrections>,
    /// Fixes to single tickets of the validation file (its own), applied after the
    /// label map.
    pub validation_corrections: Option<&'a Corrections>,
    /// The model training will use (the language check measures its vocabulary).
    pub model: Option<ChosenModel<'a>>,
}

/// Why an inspection has no report, and the setting that would give it one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub message: String,
    pub setting: Option<Setting>,
}

/// The result of [`inspect`].
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub profile: Profile,
    /// The text spec and label column used for the report (given or suggested).
    pub text: Option<TextSpec>,
    pub label_column: Option<String>,
    /// Usable rows and their (mapped) labels with counts.
    pub rows_used: usize,
    /// The most frequent raw label values (at most [`MAX_RAW_LABELS`]) with counts.
    pub raw_labels: Vec<(String, usize)>,
    /// How many different raw label values there are in all.
    #[serde(default)]
    pub raw_label_values: usize,
    pub merges: Vec<MergeSuggestion>,
    pub report: Option<QualityReport>,
    /// Why there is no report (no text or label column found), if so.
    pub note: Option<Note>,
    /// What the corrections did, when there are any.
    pub corrections: Option<CorrectionReport>,
    /// Personal data in the tickets, per kind, with examples (when rows were read).
    pub pii: Option<PiiSurvey>,
    /// The tickets' languages and the model's fit to them (when rows were read; set by
    /// [`inspect`], or from [`FileRows::language`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<LanguageReport>,
    /// The separator multi-label cells were split by (given or sniffed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub label_separator: Option<char>,
}

/// Most raw label values an inspection lists (a label column with more looks like an
/// id; see [`MAX_CLASSES`]).
pub const MAX_RAW_LABELS: usize = MAX_CLASSES;

/// Untruncated token counts of a file's rows, by line, for one tokenizer.
#[derive(Debug, Clone, Default)]
pub struct TokenCounts {
    by_line: Vec<(usize, usize)>,
}

impl TokenCounts {
    /// The count of the row starting at `line`, if it was measured.
    fn of(&self, line: usize) -> Option<usize> {
        self.by_line
            .binary_search_by_key(&line, |&(l, _)| l)
            .ok()
            .map(|i| self.by_line[i].1)
    }
}

/// Texts tokenised between two checks of a cancel flag.
const TOKENIZE_CHUNK: usize = 512;

/// A file read for inspection: its profile, the columns in use (given or suggested)
/// and, when both are known, its rows before any label map.
#[derive(Debug, Clone)]
pub struct FileRows {
    pub profile: Profile,
    pub text: Option<TextSpec>,
    pub label_column: Option<String>,
    pub label_form: LabelForm,
    pub rows: Option<RawRows>,
}

impl FileRows {
    /// Profile `path` and read its rows with the given (or suggested) columns; `None`
    /// if `cancel` was set midway.
    pub fn read(
        path: &Path,
        text: Option<TextSpec>,
        label_column: Option<String>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Self>> {
        Self::read_as(path, text, label_column, LabelForm::Single, cancel)
    }

    /// [`Self::read`] with labels held in `form` (0/1 columns need no label column).
    pub fn read_as(
        path: &Path,
        text: Option<TextSpec>,
        label_column: Option<String>,
        label_form: LabelForm,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Self>> {
        let Some(profile) = profile_file_with(path, cancel)? else {
            return Ok(None);
        };
        let text = text.or_else(|| profile.suggested_text.as_deref().map(TextSpec::column));
        let label_column = match label_form {
            LabelForm::Columns { .. } => label_column,
            _ => label_column.or_else(|| profile.suggested_label.clone()),
        };
        let label = match (&label_form, &label_column) {
            (LabelForm::Columns { .. }, _) => Some(""),
            (_, label) => label.as_deref(),
        };
        let rows = match (&text, label) {
            (Some(text), Some(label)) => {
                match read_raw_as(path, text, label, &label_form, cancel)? {
                    Some(rows) => Some(rows),
                    None => return Ok(None),
                }
            }
            _ => None,
        };
        Ok(Some(Self {
            profile,
            text,
            label_column,
            label_form,
            rows,
        }))
    }

    /// Token counts of every row's text with `encoder` (no truncation); `None` if
    /// `cancel` was set midway or there are no rows.
    pub fn token_counts(
        &self,
        encoder: &TextEncoder,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<TokenCounts>> {
        let Some(rows) = &self.rows else {
            return Ok(None);
        };
        let mut by_line = Vec::with_capacity(rows.rows.len());
        for chunk in rows.rows.chunks(TOKENIZE_CHUNK) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Ok(None);
            }
            let texts: Vec<String> = chunk.iter().map(|r| r.text.clone()).collect();
            let counts = encoder.token_counts(&texts).map_err(|e| {
                EngineError::Tokenizer(format!("while measuring text lengths: {e}"))
            })?;
            by_line.extend(chunk.iter().map(|r| r.line).zip(counts));
        }
        Ok(Some(TokenCounts { by_line }))
    }

    /// The languages of the rows' texts and, with `model`, its vocabulary's fit to them
    /// (a sample: see [`super::language`]); `None` when there are no rows.
    pub fn language(&self, model: Option<ChosenModel>) -> Result<Option<LanguageReport>> {
        let Some(rows) = &self.rows else {
            return Ok(None);
        };
        let texts: Vec<&str> = rows.rows.iter().map(|r| r.text.as_str()).collect();
        language_report(&texts, model).map(Some)
    }

    /// The inspection with `options` (its text and label column are those read with;
    /// its encoder is not used: pass `tokens` measured with it and its max length).
    pub fn inspect(
        &self,
        options: &InspectOptions,
        tokens: Option<(&TokenCounts, usize)>,
    ) -> Result<Inspection> {
        let mut inspection = Inspection {
            profile: self.profile.clone(),
            text: self.text.clone(),
            label_column: self.label_column.clone(),
            rows_used: 0,
            raw_labels: Vec::new(),
            raw_label_values: 0,
            merges: Vec::new(),
            report: None,
            note: None,
            corrections: None,
            pii: None,
            language: None,
            label_separator: self.rows.as_ref().and_then(|r| r.label_separator),
        };
        let (Some(text), Some(rows)) = (&self.text, &self.rows) else {
            let (what, setting) = if self.text.is_none() {
                ("free-text", Setting::TextColumn)
            } else {
                ("label", Setting::LabelColumn)
            };
            inspection.note = Some(Note {
                message: format!("no {what} column could be recognised: pick one"),
                setting: Some(setting),
            });
            return Ok(inspection);
        };
        let mut data = rows.labeled(options.label_map)?;
        // The classes a validation file may use: the data file's, as training reads it.
        let classes = data.labels.clone();
        let corrections = options.corrections.filter(|c| !c.is_empty());
        let resolved = corrections
            .map(|c| c.resolve(&data.examples))
            .unwrap_or_default();
        // Kept for the split, which training draws before the corrections.
        let uncorrected = corrections.map(|_| data.examples.clone());
        if corrections.is_some() {
            data.examples = resolved.apply(std::mem::take(&mut data.examples));
            data.labels = label_set(&data.examples);
            inspection.corrections = Some(resolved.report.clone());
            if data.examples.is_empty() {
                return Err(EngineError::data(
                    &rows.path,
                    "the corrections drop every ticket: undo some of them",
                ));
            }
        }
        let validation = match options.validation {
            Some(v) => {
                let how = ValidationRead {
                    text,
                    label_column: self.label_column.as_deref().unwrap_or_default(),
                    label_form: &self.label_form,
                    label_map: options.label_map,
                    corrections: options.validation_corrections,
                };
                Some(read_validation(v, &how, &classes)?.examples)
            }
            None => None,
        };
        let counts: Option<Vec<usize>> = tokens.map(|(t, _)| {
            data.examples
                .iter()
                .map(|e| t.of(e.line).unwrap_or(0))
                .collect()
        });
        let truncation = match (&counts, tokens) {
            (Some(counts), Some((_, max_length))) => Some(Truncation {
                token_counts: counts,
                max_length,
            }),
            _ => None,
        };
        let mut report = assess(&data, validation.as_deref(), truncation);
        if tokens.is_none() {
            report.not_measured(
                "truncation",
                "how many texts are longer than the model reads needs the model's tokenizer: it is measured once a model is chosen",
            );
        }
        if validation.is_none() {
            let drawn_from = uncorrected.as_deref().unwrap_or(&data.examples);
            split_leakage(drawn_from, &resolved, options.split, &mut report);
        }
        inspection.report = Some(report);
        inspection.pii = Some(survey(
            data.examples.iter().map(|e| (e.line, e.text.as_str())),
        ));
        inspection.rows_used = data.examples.len();
        inspection.merges = LabelMap::suggest_merges(&data.raw_label_counts);
        inspection.raw_label_values = data.raw_label_counts.len();
        let mut raw: Vec<(String, usize)> = data.raw_label_counts.into_iter().collect();
        raw.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        raw.truncate(MAX_RAW_LABELS);
        inspection.raw_labels = raw;
        Ok(inspection)
    }
}

/// The leakage check across the two sides of the split `plan` makes, or why it was
/// not made.
/// The split is drawn before corrections, as training draws it.
fn split_leakage(
    examples: &[super::Example],
    corrections: &Resolved,
    plan: Option<SplitPlan>,
    report: &mut QualityReport,
) {
    let Some(plan) = plan else {
        report.not_measured(
            "leakage",
            "repeats across training and validation are checked once the validation split (share and seed) or a validation file is known",
        );
        return;
    };
    match holdout(examples, &plan) {
        Ok((train, validation)) => leakage(
            report,
            &corrections.apply(train),
            &corrections.apply(validation),
            "remove the repeated tickets (see the duplicate findings) so validation scores unseen tickets",
        ),
        Err(e) => report.not_measured(
            "leakage",
            format!("the validation split cannot be made yet, so repeats across it were not checked: {e}"),
        ),
    }
}

/// Profile `path` and, when text and label columns are known or can be suggested,
/// read it with them and assess its quality.
pub fn inspect(path: &Path, options: &InspectOptions) -> Result<Inspection> {
    let file = FileRows::read_as(
        path,
        options.text.clone(),
        options.label_column.clone(),
        options.label_form.clone(),
        None,
    )?
    .ok_or_else(|| EngineError::data(path, "the inspection was cancelled"))?;
    let tokens = match options.encoder {
        Some(encoder) => file
            .token_counts(encoder, None)?
            .map(|t| (t, encoder.max_length())),
        None => None,
    };
    let mut inspection = file.inspect(options, tokens.as_ref().map(|(t, m)| (t, *m)))?;
    inspection.language = file.language(options.model)?;
    Ok(inspection)
}
