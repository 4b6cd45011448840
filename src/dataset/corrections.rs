//! Corrections: an analyst's fixes to single tickets' labels (another class, or drop
//! the ticket), kept beside the data file without touching it. Each correction names
//! its row by line and a hash of the row's text, so an edited file invalidates only
//! the rows that changed, and says which. Corrections apply after the label map.

use super::read::{column_index, read_raw};
use super::source::RecordReader;
use super::{Example, LabelMap, TextSpec};
use crate::atomic::{write_atomic, write_atomic_with};
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How much of a ticket's text a correction keeps, to list it without the file.
const PREVIEW_CHARS: usize = 300;

/// The first 16 hex digits of the SHA-256 of a row's composed text: with its line, the
/// row's identity.
pub fn row_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One ticket's fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    /// Line where the row starts (header = line 1) when it was corrected.
    pub line: usize,
    /// [`row_hash`] of the row's text.
    pub hash: String,
    /// The start of the ticket's text, for listing.
    pub text: String,
    /// The label it had (after the label map) when it was corrected.
    pub given: String,
    /// The class it gets, or `null` to drop the ticket.
    pub label: Option<String>,
}

impl Correction {
    /// A correction of `example` to `label` (`None` drops it).
    pub fn of(example: &Example, label: Option<String>) -> Self {
        Self {
            line: example.line,
            hash: row_hash(&example.text),
            text: example.text.chars().take(PREVIEW_CHARS).collect(),
            given: example.label.clone(),
            label,
        }
    }
}

/// A data file's corrections, in line order. Saved as JSON beside label maps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Corrections {
    pub corrections: Vec<Correction>,
}

/// A correction that no longer matches a row of the file, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StaleCorrection {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// A correction whose row moved to another line (found by its text).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct MovedRow {
    pub from: usize,
    pub to: usize,
}

/// What applying corrections to a file's rows did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CorrectionReport {
    /// Tickets given another class.
    pub relabelled: usize,
    /// Tickets dropped.
    pub dropped: usize,
    /// Corrections found on another line than recorded.
    pub moved: Vec<MovedRow>,
    /// Corrections that match no row and were not applied.
    pub stale: Vec<StaleCorrection>,
}

impl CorrectionReport {
    /// A one-line account for warnings and logs, `None` when nothing is stale or moved.
    pub fn notice(&self) -> Option<String> {
        if self.stale.is_empty() && self.moved.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(first) = self.stale.first() {
            parts.push(format!(
                "{} correction(s) no longer match the file and were not applied (line {}: {})",
                self.stale.len(),
                first.line,
                first.reason
            ));
        }
        if let Some(first) = self.moved.first() {
            parts.push(format!(
                "{} corrected row(s) moved and were found by their text (line {} is now line {})",
                self.moved.len(),
                first.from,
                first.to
            ));
        }
        Some(parts.join("; "))
    }
}

/// Corrections matched to the rows of one read of a file: line → new label (`None`
/// drops), and the report.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    fixes: HashMap<usize, Option<String>>,
    pub report: CorrectionReport,
}

impl Resolved {
    /// `examples` with the fixes applied: relabelled, or left out when dropped.
    pub fn apply(&self, examples: Vec<Example>) -> Vec<Example> {
        examples
            .into_iter()
            .filter_map(|mut e| match self.fixes.get(&e.line) {
                None => Some(e),
                Some(None) => None,
                Some(Some(label)) => {
                    e.label = label.clone();
                    Some(e)
                }
            })
            .collect()
    }
}

impl Corrections {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.corrections.is_empty()
    }

    /// Add `correction`, replacing one for the same row; a correction back to the
    /// given label removes it instead.
    pub fn set(&mut self, correction: Correction) {
        self.undo(correction.line, &correction.hash);
        if correction.label.as_deref() == Some(correction.given.as_str()) {
            return;
        }
        let at = self
            .corrections
            .partition_point(|c| c.line <= correction.line);
        self.corrections.insert(at, correction);
    }

    /// Remove the correction of the row at `line` with text hash `hash`; whether there
    /// was one.
    pub fn undo(&mut self, line: usize, hash: &str) -> bool {
        let before = self.corrections.len();
        self.corrections
            .retain(|c| !(c.line == line && c.hash == hash));
        self.corrections.len() != before
    }

    /// Match every correction to a row of `examples` (a file's rows after the label
    /// map): the row at its line with its text; else the one row anywhere with its
    /// text (moved). A correction whose text is on several other lines, or nowhere, is
    /// stale and not applied.
    pub fn resolve(&self, examples: &[Example]) -> Resolved {
        let mut by_hash: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_line: HashMap<usize, &Example> = HashMap::new();
        for (i, e) in examples.iter().enumerate() {
            by_hash.entry(row_hash(&e.text)).or_default().push(i);
            by_line.insert(e.line, e);
        }
        let mut resolved = Resolved::default();
        for c in &self.corrections {
            let candidates = by_hash.get(&c.hash).map_or(&[][..], Vec::as_slice);
            let exact = candidates.iter().any(|&i| examples[i].line == c.line);
            let line = match candidates {
                _ if exact => Some(c.line),
                [only] => {
                    resolved.report.moved.push(MovedRow {
                        from: c.line,
                        to: examples[*only].line,
                    });
                    Some(examples[*only].line)
                }
                _ => None,
            };
            let Some(line) = line else {
                let reason = match (candidates.len(), by_line.contains_key(&c.line)) {
                    (0, true) => format!("the ticket on line {} has another text now", c.line),
                    (0, false) => format!(
                        "line {} holds no labelled ticket now and its text is nowhere in the file",
                        c.line
                    ),
                    (n, _) => format!(
                        "its text is on {n} other lines now ({}), so which one was meant is unclear: correct it again",
                        candidates
                            .iter()
                            .map(|&i| examples[i].line.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                resolved.report.stale.push(StaleCorrection {
                    line: c.line,
                    text: c.text.clone(),
                    reason,
                });
                continue;
            };
            match &c.label {
                Some(_) => resolved.report.relabelled += 1,
                None => resolved.report.dropped += 1,
            }
            resolved.fixes.insert(line, c.label.clone());
        }
        resolved
    }

    /// Read corrections saved with [`Corrections::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            EngineError::data(
                path,
                format!(
                    "is not a corrections file ({e}). Expected {{\"corrections\": [{{\"line\", \"hash\", \"text\", \"given\", \"label\"}}]}}"
                ),
            )
        })
    }

    /// Save as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Where the corrections of data file `data` are kept in folder `shelf`: one JSON
/// file per data file, named by a hash of the file's absolute path, so reopening the
/// file brings its corrections back.
pub fn kept_path(shelf: &Path, data: &Path) -> PathBuf {
    let absolute = std::path::absolute(data).unwrap_or_else(|_| data.to_path_buf());
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    let name = data
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect::<String>();
    let hash = row_hash(&absolute.to_string_lossy());
    shelf.join(format!("{name}-{hash}.json"))
}

impl Corrections {
    /// The corrections kept for `data` in `shelf` (none yet: empty).
    pub fn kept(shelf: &Path, data: &Path) -> Result<Self> {
        let path = kept_path(shelf, data);
        if path.exists() {
            Self::load(&path)
        } else {
            Ok(Self::default())
        }
    }

    /// Keep these as the corrections of `data` in `shelf` (created when missing).
    pub fn keep(&self, shelf: &Path, data: &Path) -> Result<()> {
        std::fs::create_dir_all(shelf).map_err(|e| EngineError::io(shelf, e))?;
        self.save(&kept_path(shelf, data))
    }
}

/// What [`write_corrected`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CorrectedExport {
    /// Data rows written.
    pub rows: usize,
    /// Rows left out: dropped by the label map or a correction, or without text or
    /// label.
    pub left_out: usize,
    pub report: CorrectionReport,
}

/// Write `input` as a CSV with every column kept and the label column holding each
/// ticket's class after `map` and `corrections`; rows those drop (and rows without
/// text or label) are left out. Cells are written as they are, so the file trains
/// like the original. Atomic.
pub fn write_corrected(
    input: &Path,
    text: &TextSpec,
    label_column: &str,
    map: Option<&LabelMap>,
    corrections: &Corrections,
    output: &Path,
) -> Result<CorrectedExport> {
    let raw = read_raw(input, text, label_column, None)?
        .ok_or_else(|| EngineError::data(input, "reading was cancelled"))?;
    let data = raw.labeled(map)?;
    let resolved = corrections.resolve(&data.examples);
    let labels: HashMap<usize, String> = resolved
        .apply(data.examples)
        .into_iter()
        .map(|e| (e.line, e.label))
        .collect();
    let mut reader = RecordReader::open(input)?;
    let label_col = column_index(input, reader.headers(), label_column)?;
    let headers = reader.headers().to_vec();
    let (mut rows, mut left_out) = (0, 0);
    let mut failure = None;
    write_atomic_with(output, |file| {
        let mut w = csv::Writer::from_writer(file);
        w.write_record(&headers)?;
        loop {
            let record = match reader.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    return Err(std::io::Error::other("reading failed"));
                }
            };
            let Some(label) = labels.get(&record.line) else {
                left_out += 1;
                continue;
            };
            let mut cells = record.cells;
            cells[label_col] = label.clone();
            w.write_record(&cells)?;
            rows += 1;
        }
        w.flush()
    })
    .map_err(|e| match failure.take() {
        Some(engine) => engine,
        None => e,
    })?;
    Ok(CorrectedExport {
        rows,
        left_out,
        report: resolved.report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(line: usize, text: &str, label: &str) -> Example {
        Example {
            text: text.into(),
            label: label.into(),
            line,
            labels: None,
        }
    }

    fn fixes(c: &Corrections, examples: &[Example]) -> (Vec<(usize, String)>, CorrectionReport) {
        let resolved = c.resolve(examples);
        let applied = resolved
            .apply(examples.to_vec())
            .into_iter()
            .map(|e| (e.line, e.label))
            .collect();
        (applied, resolved.report)
    }

    #[test]
    fn a_row_is_its_line_and_text_and_survives_a_reordered_file() {
        let file = [ex(2, "app crashes", "bug"), ex(3, "add dark mode", "bug")];
        let mut c = Corrections::default();
        c.set(Correction::of(&file[1], Some("feature".into())));
        let (rows, report) = fixes(&c, &file);
        assert_eq!(rows, [(2, "bug".into()), (3, "feature".into())]);
        assert_eq!((report.relabelled, report.moved.len()), (1, 0));
        // The same rows in the other order: found by their text on its new line.
        let reordered = [ex(2, "add dark mode", "bug"), ex(3, "app crashes", "bug")];
        let (rows, report) = fixes(&c, &reordered);
        assert_eq!(rows, [(2, "feature".into()), (3, "bug".into())]);
        assert_eq!(report.moved, [MovedRow { from: 3, to: 2 }]);
        assert!(report.stale.is_empty());
    }

    #[test]
    fn an_edited_row_invalidates_only_its_own_correction_and_says_so() {
        let file = [ex(2, "app crashes", "bug"), ex(3, "add dark mode", "bug")];
        let mut c = Corrections::default();
        c.set(Correction::of(&file[0], None));
        c.set(Correction::of(&file[1], Some("feature".into())));
        let edited = [
            ex(2, "app crashes on start", "bug"),
            ex(3, "add dark mode", "bug"),
        ];
        let (rows, report) = fixes(&c, &edited);
        assert_eq!(rows, [(2, "bug".into()), (3, "feature".into())]);
        assert_eq!((report.dropped, report.relabelled), (0, 1));
        assert_eq!(report.stale.len(), 1);
        assert!(
            report.stale[0].reason.contains("line 2 has another text"),
            "{:?}",
            report.stale
        );
        assert!(report
            .notice()
            .unwrap()
            .contains("1 correction(s) no longer match"));
        // The row is gone altogether.
        let shorter = [ex(3, "add dark mode", "bug")];
        let (_, report) = fixes(&c, &shorter);
        assert!(report.stale[0].reason.contains("holds no labelled ticket"));
    }

    #[test]
    fn duplicated_rows_are_told_apart_by_line_and_ambiguous_moves_are_refused() {
        let file = [
            ex(2, "refund please", "billing"),
            ex(3, "refund please", "billing"),
            ex(4, "other", "bug"),
        ];
        let mut c = Corrections::default();
        c.set(Correction::of(&file[1], Some("refund".into())));
        let (rows, report) = fixes(&c, &file);
        assert_eq!(
            rows,
            [
                (2, "billing".into()),
                (3, "refund".into()),
                (4, "bug".into())
            ]
        );
        assert!(report.stale.is_empty() && report.moved.is_empty());
        // A row inserted above: the copies sit on lines 3 and 4, and line 3 still
        // holds that text, so the correction stays there (identical copies train alike).
        let shifted = [
            ex(2, "new first", "bug"),
            ex(3, "refund please", "billing"),
            ex(4, "refund please", "billing"),
        ];
        let (rows, _) = fixes(&c, &shifted);
        assert_eq!(rows[1], (3, "refund".into()));
        // Two copies elsewhere and none on its line: unclear, not applied.
        let elsewhere = [
            ex(2, "refund please", "billing"),
            ex(3, "other", "bug"),
            ex(5, "refund please", "billing"),
        ];
        let (rows, report) = fixes(&c, &elsewhere);
        assert!(rows.iter().all(|(_, l)| l != "refund"));
        assert!(
            report.stale[0].reason.contains("2 other lines now (2, 5)"),
            "{:?}",
            report.stale
        );
    }

    #[test]
    fn set_replaces_undo_removes_and_back_to_given_is_no_correction() {
        let row = ex(7, "login fails", "question");
        let mut c = Corrections::default();
        c.set(Correction::of(&row, Some("bug".into())));
        c.set(Correction::of(&row, None));
        assert_eq!(c.corrections.len(), 1);
        assert_eq!(c.corrections[0].label, None);
        c.set(Correction::of(&row, Some("question".into())));
        assert!(c.is_empty());
        c.set(Correction::of(&row, Some("bug".into())));
        assert!(c.undo(7, &row_hash("login fails")));
        assert!(!c.undo(7, &row_hash("login fails")));
    }

    #[test]
    fn saved_corrections_load_back_and_a_wrong_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let mut c = Corrections::default();
        c.set(Correction::of(&ex(4, "b", "x"), Some("y".into())));
        c.set(Correction::of(&ex(2, "a", "x"), None));
        c.save(&path).unwrap();
        let back = Corrections::load(&path).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.corrections[0].line, 2);
        std::fs::write(&path, "[1,2]").unwrap();
        let err = Corrections::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("c.json") && err.contains("not a corrections file"),
            "{err}"
        );
    }

    #[test]
    fn kept_corrections_come_back_for_the_same_file_only() {
        let shelf = tempfile::tempdir().unwrap();
        let data = shelf.path().join("tickets.csv");
        let other = shelf.path().join("other.csv");
        assert!(Corrections::kept(shelf.path(), &data).unwrap().is_empty());
        let mut c = Corrections::default();
        c.set(Correction::of(&ex(2, "a", "x"), None));
        c.keep(&shelf.path().join("kept"), &data).unwrap();
        let kept = shelf.path().join("kept");
        assert_eq!(Corrections::kept(&kept, &data).unwrap(), c);
        assert!(Corrections::kept(&kept, &other).unwrap().is_empty());
        assert!(kept_path(&kept, &data)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("tickets-"));
    }

    #[test]
    fn the_corrected_csv_keeps_every_column_and_applies_map_then_corrections() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(
            &input,
            "id,text,label\n1,app crashes,Bug\n2,dark mode please,BUG\n3,spam,junk\n4,how do I log in,question\n",
        )
        .unwrap();
        let mut map = LabelMap::default();
        map.mapping.insert("Bug".into(), Some("bug".into()));
        map.mapping.insert("BUG".into(), Some("bug".into()));
        map.mapping.insert("junk".into(), None);
        let mut c = Corrections::default();
        c.set(Correction::of(
            &ex(3, "dark mode please", "bug"),
            Some("feature".into()),
        ));
        c.set(Correction::of(&ex(5, "how do I log in", "question"), None));
        let out = dir.path().join("out.csv");
        let export = write_corrected(
            &input,
            &TextSpec::column("text"),
            "label",
            Some(&map),
            &c,
            &out,
        )
        .unwrap();
        assert_eq!((export.rows, export.left_out), (2, 2));
        assert_eq!((export.report.relabelled, export.report.dropped), (1, 1));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "id,text,label\n1,app crashes,bug\n2,dark mode please,feature\n"
        );
    }
}
