//! An analyst's own validation file, read as the training file is: the same text and
//! label columns, the same label map, its own corrections (they name its rows), and
//! only the classes training knows. Then its overlap with the training rows, which
//! [`drop_overlap`] can leave out.

use super::corrections::{CorrectionReport, Corrections};
use super::overlap::{overlap_pairs, Overlap};
use super::{read_labeled_as, Example, LabelForm, LabelMap, TextSpec, Warnings};
use crate::error::{EngineError, Result};
use crate::setting::Setting;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// How to read a validation file: the training file's columns and label map, and the
/// validation file's own corrections.
pub struct ValidationRead<'a> {
    pub text: &'a TextSpec,
    pub label_column: &'a str,
    pub label_form: &'a LabelForm,
    pub label_map: Option<&'a LabelMap>,
    pub corrections: Option<&'a Corrections>,
}

/// A validation file's tickets, ready to score on.
#[derive(Debug, Clone)]
pub struct ValidationRows {
    pub examples: Vec<Example>,
    pub warnings: Warnings,
    /// What its corrections did (all zero without them).
    pub corrections: CorrectionReport,
}

/// What a chosen validation file holds, for the app's picker: its rows and classes
/// after the label map and its corrections, and its overlap with the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ValidationSummary {
    pub path: PathBuf,
    /// Tickets it will be scored on.
    pub rows: usize,
    /// Per class (after the label map and corrections), its rows; sorted by class.
    pub class_counts: Vec<(String, usize)>,
    /// Training classes with no validation row (their scores cannot be measured).
    pub missing_classes: Vec<String>,
    /// Its tickets that repeat training tickets.
    pub overlap: Overlap,
    pub corrections: CorrectionReport,
    pub warnings: Warnings,
}

/// Read validation file `path` with `how`: every ticket's class must be one of
/// `classes` (the training file's, after the label map), or the error names the file,
/// the first such row and its value, and what to do.
pub fn read_validation(
    path: &Path,
    how: &ValidationRead,
    classes: &[String],
) -> Result<ValidationRows> {
    let data = read_labeled_as(
        path,
        how.text,
        how.label_column,
        how.label_form,
        how.label_map,
    )?;
    let resolved = how
        .corrections
        .filter(|c| !c.is_empty())
        .map(|c| c.resolve(&data.examples))
        .unwrap_or_default();
    let mut warnings = data.warnings.clone();
    if let Some(notice) = resolved.report.notice() {
        warnings.add(
            "validation_corrections",
            None,
            format!("validation file: {notice}"),
        );
    }
    let examples = resolved.apply(data.examples);
    if examples.is_empty() {
        return Err(EngineError::data(
            path,
            "the corrections drop every validation ticket: undo some of them",
        ));
    }
    let known: HashSet<&str> = classes.iter().map(String::as_str).collect();
    let mut unknown: BTreeMap<&str, usize> = BTreeMap::new();
    let mut first: Option<(&Example, &str)> = None;
    for (e, class) in examples
        .iter()
        .flat_map(|e| e.classes().map(move |c| (e, c)))
        .filter(|(_, c)| !known.contains(c))
    {
        *unknown.entry(class).or_default() += 1;
        if first.is_none() {
            first = Some((e, class));
        }
    }
    if let Some((e, class)) = first {
        let unmapped = how.label_map.is_some() && data.unmapped.contains_key(class);
        return Err(unknown_label(
            path, e.line, class, &unknown, classes, unmapped,
        ));
    }
    Ok(ValidationRows {
        examples,
        warnings,
        corrections: resolved.report,
    })
}

/// The error for validation rows whose class training does not know, naming the first.
fn unknown_label(
    path: &Path,
    line: usize,
    label: &str,
    unknown: &BTreeMap<&str, usize>,
    classes: &[String],
    unmapped: bool,
) -> EngineError {
    let rows: usize = unknown.values().sum();
    let known: Vec<String> = classes.iter().take(8).map(|c| format!("'{c}'")).collect();
    let more = if classes.len() > known.len() {
        ", …"
    } else {
        ""
    };
    let why = if unmapped {
        "the label map does not mention it, and the training file has no such class"
    } else {
        "the training file has no such class"
    };
    let others = if rows > 1 {
        format!(
            " ({rows} validation rows in all, with {} such value(s))",
            unknown.len()
        )
    } else {
        String::new()
    };
    EngineError::data_about(
        path,
        format!(
            "validation row on line {}: its label '{}' is not a training class ({why}){others}. \
             The training classes are {}{more}. Map '{}' onto one of them in the label map (or \
             to null to leave such rows out), or correct or remove that row.",
            line,
            label,
            known.join(", "),
            label
        ),
        &[Setting::LabelMap],
    )
}

/// `validation` without the tickets that repeat a training ticket (see
/// [`super::overlap`]), with a warning that says how many were left out. An error when
/// every validation ticket repeats one.
pub fn drop_overlap(
    path: &Path,
    train: &[Example],
    validation: Vec<Example>,
    warnings: &mut Warnings,
) -> Result<Vec<Example>> {
    let repeated: HashSet<usize> = overlap_pairs(train, &validation)
        .iter()
        .map(|p| p.validation_line)
        .collect();
    if repeated.is_empty() {
        return Ok(validation);
    }
    let n = repeated.len();
    let kept: Vec<Example> = validation
        .into_iter()
        .filter(|e| !repeated.contains(&e.line))
        .collect();
    if kept.is_empty() {
        return Err(EngineError::data(
            path,
            "every validation ticket repeats a training ticket, so none is left to score on: \
             choose another validation file, or hold out a share of the training file",
        ));
    }
    let mut lines: Vec<usize> = repeated.into_iter().collect();
    lines.sort_unstable();
    for line in lines {
        warnings.add(
            "overlap_dropped",
            Some(line),
            format!("left out {n} validation tickets that repeat training tickets"),
        );
    }
    Ok(kept)
}

/// The summary of `rows` against the training rows `train` and their `classes`.
pub fn summarise(
    path: &Path,
    rows: ValidationRows,
    train: &[Example],
    classes: &[String],
) -> ValidationSummary {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &rows.examples {
        *counts.entry(e.label.clone()).or_default() += 1;
    }
    ValidationSummary {
        path: path.to_path_buf(),
        rows: rows.examples.len(),
        missing_classes: classes
            .iter()
            .filter(|c| !counts.contains_key(*c))
            .cloned()
            .collect(),
        class_counts: counts.into_iter().collect(),
        overlap: Overlap::of(&overlap_pairs(train, &rows.examples)),
        corrections: rows.corrections,
        warnings: rows.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::corrections::Correction;
    use std::io::Write;

    fn file(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    fn classes() -> Vec<String> {
        vec!["billing".into(), "bug".into()]
    }

    #[test]
    fn a_label_training_does_not_know_names_the_file_row_and_value() {
        let f = file("text,label\nthe app crashes,bug\nrefund my order,Refunds\n");
        let text = TextSpec::column("text");
        let how = ValidationRead {
            text: &text,
            label_column: "label",
            label_form: &LabelForm::Single,
            label_map: None,
            corrections: None,
        };
        let err = read_validation(f.path(), &how, &classes()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&f.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("'Refunds'"), "{message}");
        assert!(message.contains("label map"), "{message}");

        let missing = ValidationRead {
            label_column: "category",
            ..how
        };
        let message = read_validation(f.path(), &missing, &classes())
            .unwrap_err()
            .to_string();
        assert!(message.contains("no column named 'category'"), "{message}");
        assert!(
            message.contains(&f.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn the_label_map_and_the_files_own_corrections_apply() {
        let f = file(
            "text,label\nthe app crashes,defect\nrefund my order,Refunds\nhello there friend,bug\n",
        );
        let text = TextSpec::column("text");
        let mut map = LabelMap::default();
        map.mapping.insert("defect".into(), Some("bug".into()));
        map.mapping.insert("bug".into(), Some("bug".into()));
        map.mapping.insert("Refunds".into(), Some("billing".into()));
        let mut corrections = Corrections::default();
        let hello = Example {
            text: "hello there friend".into(),
            label: "bug".into(),
            line: 4,
            labels: None,
        };
        corrections.set(Correction::of(&hello, None));
        let how = ValidationRead {
            text: &text,
            label_column: "label",
            label_form: &LabelForm::Single,
            label_map: Some(&map),
            corrections: Some(&corrections),
        };
        let rows = read_validation(f.path(), &how, &classes()).unwrap();
        let labels: Vec<(&str, usize)> = rows
            .examples
            .iter()
            .map(|e| (e.label.as_str(), e.line))
            .collect();
        assert_eq!(labels, vec![("bug", 2), ("billing", 3)]);
        assert_eq!(rows.corrections.dropped, 1);

        let train = vec![Example {
            text: "The app crashes!".into(),
            label: "bug".into(),
            line: 7,
            labels: None,
        }];
        let summary = summarise(f.path(), rows.clone(), &train, &classes());
        assert_eq!(summary.rows, 2);
        assert_eq!(summary.overlap.rows, 1);
        assert_eq!(summary.overlap.pairs[0].training_line, 7);
        assert!(summary.missing_classes.is_empty());

        let mut warnings = Warnings::default();
        let kept = drop_overlap(f.path(), &train, rows.examples, &mut warnings).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].line, 3);
        assert_eq!(warnings.items()[0].lines, vec![2]);
        assert!(warnings.items()[0].message.contains("left out 1"));
    }
}
