//! How a file holds its labels: one per row (the default), several in the label column
//! split by a separator (sniffed from the values when not given), or one 0/1 column
//! per label. The raw values of a multi-label row each go through the label map;
//! duplicates after it collapse.

use crate::error::{EngineError, Result};
use crate::setting::Setting;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Separators a label column may hold several labels with, in the order a tie is
/// broken when sniffing.
pub const LABEL_SEPARATORS: [char; 3] = [';', '|', ','];

/// How a file holds its labels.
///
/// Multi-label rows: an empty label cell (separated form) is an unlabelled row and is
/// skipped, as in the single form; a row whose 0/1 columns are all 0, or whose values
/// the label map drops all, is kept with an empty set ("no label applies": every
/// label's output learns 0).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LabelForm {
    /// One label per row, in the label column.
    #[default]
    Single,
    /// Several labels in the label column, split by `separator` (one of
    /// [`LABEL_SEPARATORS`]); `None`: sniffed from the values.
    Separated {
        #[serde(default)]
        separator: Option<char>,
    },
    /// One column per label holding 1/0, true/false, yes/no or x/empty; the column
    /// names are the raw label values.
    Columns { columns: Vec<String> },
}

impl LabelForm {
    /// Whether rows hold label sets.
    pub fn is_multi_label(&self) -> bool {
        !self.is_single()
    }

    /// Whether rows hold one label each (the default).
    pub fn is_single(&self) -> bool {
        matches!(self, LabelForm::Single)
    }

    /// Refuse a separator other than [`LABEL_SEPARATORS`] and an empty column list,
    /// naming the setting.
    pub fn validate(&self) -> Result<()> {
        match self {
            LabelForm::Separated { separator: Some(c) } if !LABEL_SEPARATORS.contains(c) => {
                Err(EngineError::setting(
                    Setting::LabelColumn,
                    format!("label separator '{c}' is not one of ';', '|', ',' (or auto)"),
                ))
            }
            LabelForm::Columns { columns } if columns.is_empty() => Err(EngineError::setting(
                Setting::LabelColumn,
                "label columns: name at least one 0/1 column",
            )),
            _ => Ok(()),
        }
    }
}

/// The separator most label cells contain (ties in [`LABEL_SEPARATORS`] order);
/// `None` when no cell holds any.
pub fn sniff_separator<'a>(cells: impl IntoIterator<Item = &'a str>) -> Option<char> {
    let mut counts = [0usize; LABEL_SEPARATORS.len()];
    for cell in cells {
        for (n, sep) in counts.iter_mut().zip(LABEL_SEPARATORS) {
            *n += usize::from(cell.contains(sep));
        }
    }
    let best = (0..counts.len()).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))?;
    (counts[best] > 0).then(|| LABEL_SEPARATORS[best])
}

/// The labels of one cell split by `separator`, trimmed, empty parts left out.
pub fn split_cell(cell: &str, separator: char) -> Vec<String> {
    cell.split(separator)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// One 0/1 cell: 1/true/yes/y/x (any case) is on, 0/false/no/n/empty is off; anything
/// else is an error naming the file, line, column and value.
pub fn flag(path: &Path, line: usize, column: &str, cell: &str) -> Result<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "x" => Ok(true),
        "0" | "false" | "no" | "n" | "" => Ok(false),
        other => Err(EngineError::data_about(
            path,
            format!(
                "line {line}, column '{column}': '{other}' is not a 0/1 value. Label columns \
                 hold 1/0, true/false, yes/no or x/empty: fix that cell, or leave the column \
                 out of the label columns."
            ),
            &[Setting::LabelColumn],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_separator_most_cells_hold() {
        assert_eq!(sniff_separator(["a;b", "c", "a;c"]), Some(';'));
        assert_eq!(sniff_separator(["a|b", "a, b|c"]), Some('|'));
        assert_eq!(sniff_separator(["a,b", "c"]), Some(','));
        assert_eq!(sniff_separator(["a", "b"]), None);
        assert_eq!(split_cell(" billing ; bug;;", ';'), vec!["billing", "bug"]);
    }

    #[test]
    fn reads_flags_and_names_a_bad_cell() {
        let p = Path::new("t.csv");
        for on in ["1", "TRUE", "yes", "x", " X "] {
            assert!(flag(p, 2, "bug", on).unwrap(), "{on}");
        }
        for off in ["0", "false", "No", ""] {
            assert!(!flag(p, 2, "bug", off).unwrap(), "{off}");
        }
        let err = flag(p, 7, "billing", "maybe").unwrap_err().to_string();
        assert!(
            err.contains("t.csv")
                && err.contains("line 7")
                && err.contains("'billing'")
                && err.contains("'maybe'"),
            "{err}"
        );
        assert!(LabelForm::Separated {
            separator: Some('/')
        }
        .validate()
        .is_err());
        assert!(LabelForm::Columns { columns: vec![] }.validate().is_err());
        assert!(LabelForm::Separated { separator: None }.validate().is_ok());
    }
}
