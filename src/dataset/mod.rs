//! Ticket data: read a delimited file, compose the text from columns, pick the label,
//! and split into training and validation sets.

mod read;
mod split;

pub use read::{read_labeled, read_table, Table};
pub use split::stratified_split;

use serde::{Deserialize, Serialize};

/// How to compose a ticket's text: one or more columns joined in order by
/// `separator`, empty parts skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSpec {
    pub columns: Vec<String>,
    pub separator: String,
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
        }
    }
}

/// One labelled ticket and the file line it starts on (1-based, header = line 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
    pub line: usize,
}

/// Labelled tickets from one file, with the sorted set of labels seen and counts of
/// rows skipped for an empty text or label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabeledData {
    pub examples: Vec<Example>,
    pub labels: Vec<String>,
    pub skipped_empty_text: usize,
    pub skipped_empty_label: usize,
}

impl LabeledData {
    /// Index of each example's label in `labels`; `None` if a label is not in the list.
    pub fn label_indices(examples: &[Example], labels: &[String]) -> Option<Vec<usize>> {
        examples
            .iter()
            .map(|e| labels.iter().position(|l| *l == e.label))
            .collect()
    }
}
