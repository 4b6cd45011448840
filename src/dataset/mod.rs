//! Ticket data: read a delimited file, compose the text from columns, pick the label,
//! and split into training and validation sets.

pub mod corrections;
mod delimited;
pub mod inspect;
pub mod label_form;
pub mod labels;
pub mod language;
pub mod overlap;
pub mod profile;
pub mod quality;
mod read;
pub mod safe_csv;
pub mod source;
mod split;
pub mod validation;
pub mod warnings;

pub use label_form::LabelForm;
pub use labels::LabelMap;
pub use read::{
    column_index, read_labeled, read_labeled_as, read_raw, read_raw_as, read_table, rows_at,
    RawRow, RawRows, Table,
};
pub use split::{holdout, sample, stratified_split};
pub use warnings::{Warning, Warnings};

use crate::pii::{scrub, PiiKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How to compose a ticket's text: one or more columns joined in order by
/// `separator`, empty parts skipped; and which kinds of personal data the model never
/// sees (replaced by placeholders such as `[EMAIL]` in training and prediction alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TextSpec {
    pub columns: Vec<String>,
    pub separator: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<PiiKind>>")]
    pub scrub: Vec<PiiKind>,
}

impl TextSpec {
    /// Text from a single column.
    pub fn column(name: &str) -> Self {
        Self::columns(vec![name.to_string()])
    }

    /// Text from several columns, joined by a blank line.
    pub fn columns(columns: Vec<String>) -> Self {
        Self {
            columns,
            separator: "\n\n".into(),
            scrub: Vec::new(),
        }
    }

    /// `text` as the model gets it: the personal data of the kinds in `scrub`
    /// replaced by placeholders.
    pub fn clean<'t>(&self, text: &'t str) -> Cow<'t, str> {
        scrub(text, &self.scrub)
    }
}

/// One labelled ticket and the file line it starts on (1-based, header = line 1).
/// A multi-label ticket has its set of classes in `labels` (sorted, maybe empty:
/// "no label applies"), and `label` holds them joined by `"; "` for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
    pub line: usize,
    /// The classes of a multi-label ticket; `None` for a single-label one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

impl Example {
    /// A multi-label ticket with the classes `labels` (sorted, duplicates dropped).
    pub fn with_labels(text: String, mut labels: Vec<String>, line: usize) -> Self {
        labels.sort();
        labels.dedup();
        Self {
            text,
            label: labels.join("; "),
            line,
            labels: Some(labels),
        }
    }

    /// Its classes: the set of a multi-label ticket, else its one label.
    pub fn classes(&self) -> impl Iterator<Item = &str> {
        let single = self.labels.is_none().then_some(self.label.as_str());
        self.labels
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(single)
    }
}

/// Labelled tickets from one file: the examples, the sorted set of (mapped) labels,
/// what was skipped and why, the raw label values seen, and the reader's warnings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabeledData {
    pub examples: Vec<Example>,
    pub labels: Vec<String>,
    pub skipped_empty_text: usize,
    /// First few lines of rows skipped for an empty text.
    pub empty_text_lines: Vec<usize>,
    pub skipped_empty_label: usize,
    pub dropped_by_map: usize,
    /// Raw label values (trimmed) and how often each occurs, before mapping.
    pub raw_label_counts: std::collections::BTreeMap<String, usize>,
    /// Raw values the label map does not mention, with counts.
    pub unmapped: std::collections::BTreeMap<String, usize>,
    pub warnings: Warnings,
}

/// The sorted set of labels of `examples` (of every set, for multi-label tickets).
pub fn label_set<'a>(examples: impl IntoIterator<Item = &'a Example>) -> Vec<String> {
    examples
        .into_iter()
        .flat_map(Example::classes)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect()
}

impl LabeledData {
    /// Index of each example's label in `labels`; `None` if a label is not in the list.
    pub fn label_indices(examples: &[Example], labels: &[String]) -> Option<Vec<usize>> {
        let index: std::collections::HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        examples
            .iter()
            .map(|e| index.get(e.label.as_str()).copied())
            .collect()
    }

    /// Each example's classes as one flag per entry of `labels` (multi-hot); `None`
    /// if a class is not in the list.
    pub fn label_flags(examples: &[Example], labels: &[String]) -> Option<Vec<Vec<bool>>> {
        examples
            .iter()
            .map(|e| {
                let mut flags = vec![false; labels.len()];
                for class in e.classes() {
                    flags[labels.iter().position(|l| l == class)?] = true;
                }
                Some(flags)
            })
            .collect()
    }
}
