//! Profiling a file before mapping it: row count, each column's likely role (free
//! text, label, id, number, date), fill rate, distinct values, a few sample rows, and
//! which columns to use for text and label. One streaming pass, bounded memory.

use super::read::cancelled;
use super::source::{Format, Record, RecordReader};
use super::warnings::Warnings;
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What a column most likely holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum ColumnRole {
    /// Long free text: ticket subject or body.
    Text,
    /// Few distinct, repeated values: a label candidate.
    Label,
    /// Unique short values: an identifier.
    Id,
    Number,
    Date,
    Empty,
    Other,
}

/// Statistics of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ColumnProfile {
    pub name: String,
    pub role: ColumnRole,
    pub filled: usize,
    pub fill_rate: f64,
    /// Distinct non-empty values (a lower bound when `distinct_capped`).
    pub distinct: usize,
    pub distinct_capped: bool,
    pub mean_chars: f64,
    pub max_chars: usize,
    /// For label candidates: every value with its count, most frequent first.
    pub values: Vec<(String, usize)>,
}

/// A file's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub path: PathBuf,
    pub format: Format,
    pub encoding: String,
    pub rows: usize,
    pub columns: Vec<ColumnProfile>,
    /// The first few rows, with their line numbers.
    pub samples: Vec<(usize, Vec<String>)>,
    pub suggested_text: Option<String>,
    pub suggested_label: Option<String>,
    pub warnings: Warnings,
}

const SAMPLES: usize = 5;
/// Longest sample cell shown, in characters.
const SAMPLE_CHARS: usize = 2_000;
const LABEL_MAX_DISTINCT: usize = 200;
const KEY_CHARS: usize = 120;
const LABEL_NAMES: [&str; 10] = [
    "label", "labels", "category", "class", "type", "tag", "intent", "topic", "kind", "group",
];

#[derive(Default)]
struct Column {
    filled: usize,
    chars: usize,
    max_chars: usize,
    words: usize,
    numeric: usize,
    dates: usize,
    counts: HashMap<String, usize>,
    capped: bool,
}

impl Column {
    fn add(&mut self, value: &str, cap: usize) {
        let v = value.trim();
        if v.is_empty() {
            return;
        }
        self.filled += 1;
        let chars = v.chars().count();
        self.chars += chars;
        self.max_chars = self.max_chars.max(chars);
        self.words += v.split_whitespace().count();
        if v.parse::<f64>().is_ok() {
            self.numeric += 1;
        } else if looks_like_date(v) {
            self.dates += 1;
        }
        let key: String = v.chars().take(KEY_CHARS).collect();
        let room = self.counts.len() < cap;
        match self.counts.get_mut(&key) {
            Some(n) => *n += 1,
            None if room => {
                self.counts.insert(key, 1);
            }
            None => self.capped = true,
        }
    }

    fn finish(self, name: String, rows: usize) -> ColumnProfile {
        let filled = self.filled;
        let distinct = self.counts.len();
        let mean_chars = self.chars as f64 / filled.max(1) as f64;
        let mean_words = self.words as f64 / filled.max(1) as f64;
        let unique = if self.capped {
            1.0
        } else {
            distinct as f64 / filled.max(1) as f64
        };
        let lower = name.to_ascii_lowercase();
        // Small files repeat few values; a label-like name makes up for that.
        let repeated = filled >= 2 * distinct || LABEL_NAMES.contains(&lower.as_str());
        let id_like = lower == "id"
            || lower.ends_with(" id")
            || lower.ends_with("_id")
            || (lower.ends_with("id") && lower.len() <= 8);
        let role = if filled == 0 {
            ColumnRole::Empty
        } else if self.dates * 10 >= filled * 9 {
            ColumnRole::Date
        } else if id_like && unique >= 0.9 {
            ColumnRole::Id
        } else if !self.capped && distinct <= LABEL_MAX_DISTINCT && repeated && mean_chars <= 60.0 {
            ColumnRole::Label
        } else if self.numeric == filled {
            ColumnRole::Number
        } else if mean_words >= 3.0 {
            ColumnRole::Text
        } else if unique >= 0.9 && mean_words < 2.0 {
            ColumnRole::Id
        } else {
            ColumnRole::Other
        };
        let mut values: Vec<(String, usize)> = if role == ColumnRole::Label {
            self.counts.into_iter().collect()
        } else {
            Vec::new()
        };
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ColumnProfile {
            name,
            role,
            filled,
            fill_rate: filled as f64 / rows.max(1) as f64,
            distinct,
            distinct_capped: self.capped,
            mean_chars,
            max_chars: self.max_chars,
            values,
        }
    }
}

fn looks_like_date(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    v.len() <= 35
        && digits >= 6
        && (v.contains('-') || v.contains('/') || v.contains('.'))
        && v.chars()
            .all(|c| c.is_ascii_digit() || "-/:. TZ+".contains(c))
}

/// Profile `path` in one streaming pass.
pub fn profile_file(path: &Path) -> Result<Profile> {
    profile_file_with(path, None)?.ok_or_else(|| EngineError::data(path, "profiling was cancelled"))
}

/// [`profile_file`], stopping with `None` when `cancel` is set.
pub fn profile_file_with(path: &Path, cancel: Option<&AtomicBool>) -> Result<Option<Profile>> {
    let mut reader = RecordReader::open(path)?;
    let headers = reader.headers().to_vec();
    let cap = (2_000_000 / headers.len().max(1)).clamp(64, 10_000);
    let mut columns: Vec<Column> = headers.iter().map(|_| Column::default()).collect();
    let mut samples = Vec::new();
    let mut rows = 0;
    while let Some(Record { line, cells }) = reader.next_record()? {
        rows += 1;
        if cancelled(cancel, rows) {
            return Ok(None);
        }
        for (col, cell) in columns.iter_mut().zip(&cells) {
            col.add(cell, cap);
        }
        if samples.len() < SAMPLES {
            samples.push((line, cells.into_iter().map(sample_cell).collect()));
        }
    }
    let columns: Vec<ColumnProfile> = columns
        .into_iter()
        .zip(headers)
        .map(|(c, name)| c.finish(name, rows))
        .collect();
    let suggested_text = columns
        .iter()
        .filter(|c| c.role == ColumnRole::Text)
        .max_by(|a, b| (a.mean_chars * a.fill_rate).total_cmp(&(b.mean_chars * b.fill_rate)))
        .map(|c| c.name.clone());
    let suggested_label = columns
        .iter()
        .filter(|c| c.role == ColumnRole::Label && c.distinct >= 2)
        .max_by_key(|c| {
            let named = LABEL_NAMES.contains(&c.name.to_ascii_lowercase().as_str());
            (
                named,
                (c.fill_rate * 1000.0) as usize,
                std::cmp::Reverse(c.distinct),
            )
        })
        .map(|c| c.name.clone());
    Ok(Some(Profile {
        path: path.to_path_buf(),
        format: reader.format(),
        encoding: reader.encoding().to_string(),
        rows,
        columns,
        samples,
        suggested_text,
        suggested_label,
        warnings: reader.take_warnings(),
    }))
}

/// A sample cell cut to [`SAMPLE_CHARS`] characters (with an ellipsis when cut).
fn sample_cell(cell: String) -> String {
    match cell.char_indices().nth(SAMPLE_CHARS) {
        Some((end, _)) => format!("{}…", &cell[..end]),
        None => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn infers_roles_and_suggests_text_and_label() {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        writeln!(f, "id,created,subject,body,category,priority,notes").unwrap();
        for i in 0..60 {
            let cat = ["Bug", "Feature", "Question"][i % 3];
            writeln!(
                f,
                "T-{i},2024-03-{:02},Subject {i},\"The app does thing number {i} when I press the button\",{cat},{},",
                i % 28 + 1,
                i % 4
            )
            .unwrap();
        }
        drop(f.as_file_mut().flush());
        let p = profile_file(f.path()).unwrap();
        assert_eq!(p.rows, 60);
        let role = |n: &str| p.columns.iter().find(|c| c.name == n).unwrap().role;
        assert_eq!(role("id"), ColumnRole::Id);
        assert_eq!(role("created"), ColumnRole::Date);
        assert_eq!(role("body"), ColumnRole::Text);
        assert_eq!(role("category"), ColumnRole::Label);
        assert_eq!(role("priority"), ColumnRole::Label);
        assert_eq!(role("notes"), ColumnRole::Empty);
        assert_eq!(p.suggested_text.as_deref(), Some("body"));
        assert_eq!(p.suggested_label.as_deref(), Some("category"));
        let cat = p.columns.iter().find(|c| c.name == "category").unwrap();
        assert_eq!(cat.values.len(), 3);
        assert_eq!(cat.values[0].1, 20);
        assert_eq!(p.samples.len(), 5);
        assert_eq!(p.samples[0].0, 2);
    }
}
