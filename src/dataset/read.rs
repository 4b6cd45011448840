//! Reading labelled tickets (streamed) and whole tables (for batch prediction).

use super::label_form::{flag, sniff_separator, split_cell, LabelForm};
use super::labels::LabelMap;
use super::source::{Format, RecordReader};
use super::warnings::Warnings;
use super::{label_set, Example, LabeledData, TextSpec};
use crate::error::{EngineError, Result};
use crate::setting::Setting;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many line numbers of skipped rows are kept as examples.
const EXAMPLE_LINES: usize = 5;

/// A whole file in memory: header names and records.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    pub format: Format,
    pub warnings: Warnings,
}

/// Position of column `name` in `headers` (exact, then trimmed case-insensitive), or an
/// error that lists the columns the file has.
pub fn column_index(path: &Path, headers: &[String], name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .or_else(|| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
        })
        .ok_or_else(|| {
            EngineError::data_about(
                path,
                format!(
                    "no column named '{name}'. The file's columns are: {}. \
                     Pick one of them for the ticket text or the label.",
                    headers
                        .iter()
                        .map(|h| format!("'{h}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[Setting::TextColumn, Setting::LabelColumn],
            )
        })
}

impl TextSpec {
    /// Positions of the text columns in `headers`.
    pub fn positions(&self, path: &Path, headers: &[String]) -> Result<Vec<usize>> {
        if self.columns.is_empty() {
            return Err(EngineError::Config("no text column given".into()));
        }
        self.columns
            .iter()
            .map(|c| column_index(path, headers, c))
            .collect()
    }

    /// The text of one row: the columns at `positions`, trimmed, empty ones skipped,
    /// joined by the separator.
    pub fn compose(&self, cells: &[String], positions: &[usize]) -> String {
        positions
            .iter()
            .filter_map(|&i| cells.get(i).map(|s| s.trim()))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(&self.separator)
    }
}

impl Table {
    /// The composed text of every row, per `spec`.
    pub fn texts(&self, path: &Path, spec: &TextSpec) -> Result<Vec<String>> {
        let positions = spec.positions(path, &self.headers)?;
        Ok(self
            .rows
            .iter()
            .map(|(_, row)| spec.compose(row, &positions))
            .collect())
    }
}

/// Read a whole file into memory (any supported format and encoding).
pub fn read_table(path: &Path) -> Result<Table> {
    let mut reader = RecordReader::open(path)?;
    let mut rows = Vec::new();
    while let Some(r) = reader.next_record()? {
        rows.push((r.line, r.cells));
    }
    if rows.is_empty() {
        return Err(EngineError::data(path, "has a header but no data rows"));
    }
    Ok(Table {
        headers: reader.headers().to_vec(),
        format: reader.format(),
        warnings: reader.take_warnings(),
        rows,
    })
}

/// The composed text of the rows that start at `lines` (line numbers as reported in
/// findings and warnings), streaming; lines that start no row are left out.
pub fn rows_at(path: &Path, text: &TextSpec, lines: &[usize]) -> Result<Vec<(usize, String)>> {
    let mut reader = RecordReader::open(path)?;
    let positions = text.positions(path, reader.headers())?;
    let wanted: std::collections::BTreeSet<usize> = lines.iter().copied().collect();
    let last = wanted.last().copied().unwrap_or(0);
    let mut found = Vec::new();
    while let Some(r) = reader.next_record()? {
        if r.line > last {
            break;
        }
        if wanted.contains(&r.line) {
            found.push((r.line, text.compose(&r.cells, &positions)));
        }
    }
    Ok(found)
}

/// Rows read between two checks of a cancel flag.
const CANCEL_EVERY: usize = 1024;

/// Whether `cancel` is set, checked when `rows` is a multiple of [`CANCEL_EVERY`].
pub(super) fn cancelled(cancel: Option<&AtomicBool>, rows: usize) -> bool {
    rows.is_multiple_of(CANCEL_EVERY) && cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// One row with a label: its composed text (maybe empty) and raw label (trimmed).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub line: usize,
    pub text: String,
    pub label: String,
    /// A multi-label row's raw values (split, or the names of its flagged columns);
    /// `None` for a single-label row.
    pub values: Option<Vec<String>>,
}

/// A file's rows before any label map: read once, labelled with any map.
#[derive(Debug, Clone)]
pub struct RawRows {
    pub path: PathBuf,
    /// Rows with a non-empty label, in file order.
    pub rows: Vec<RawRow>,
    pub skipped_empty_label: usize,
    pub warnings: Warnings,
    /// The separator the label cells were split by (given or sniffed), for the
    /// separated multi-label form.
    pub label_separator: Option<char>,
}

/// Read every row's composed text (per `text`) and raw label (from `label_column`),
/// streaming; `None` if `cancel` was set midway.
pub fn read_raw(
    path: &Path,
    text: &TextSpec,
    label_column: &str,
    cancel: Option<&AtomicBool>,
) -> Result<Option<RawRows>> {
    let mut reader = RecordReader::open(path)?;
    let positions = text.positions(path, reader.headers())?;
    let label_col = column_index(path, reader.headers(), label_column)?;
    let mut raw = RawRows::empty(path);
    let mut any_row = false;
    let mut read = 0;
    while let Some(record) = reader.next_record()? {
        read += 1;
        if cancelled(cancel, read) {
            return Ok(None);
        }
        any_row = true;
        let label = record.cells[label_col].trim();
        if label.is_empty() {
            raw.skipped_empty_label += 1;
            continue;
        }
        raw.rows.push(RawRow {
            line: record.line,
            text: text.compose(&record.cells, &positions),
            label: label.to_string(),
            values: None,
        });
    }
    if !any_row {
        return Err(EngineError::data(path, "has a header but no data rows"));
    }
    raw.warnings = reader.take_warnings();
    Ok(Some(raw))
}

/// [`read_raw`] for labels held in `form`: the label column's cells split (by the
/// given separator, else the one sniffed from them), or the 0/1 `columns` read (a
/// cell that is not 0/1 is an error naming it); `label_column` is not read then.
pub fn read_raw_as(
    path: &Path,
    text: &TextSpec,
    label_column: &str,
    form: &LabelForm,
    cancel: Option<&AtomicBool>,
) -> Result<Option<RawRows>> {
    form.validate()?;
    match form {
        LabelForm::Single => read_raw(path, text, label_column, cancel),
        LabelForm::Separated { separator } => {
            let Some(mut raw) = read_raw(path, text, label_column, cancel)? else {
                return Ok(None);
            };
            let separator = separator
                .or_else(|| sniff_separator(raw.rows.iter().map(|r| r.label.as_str())))
                .unwrap_or(';');
            for row in &mut raw.rows {
                row.values = Some(split_cell(&row.label, separator));
            }
            raw.label_separator = Some(separator);
            Ok(Some(raw))
        }
        LabelForm::Columns { columns } => read_flag_columns(path, text, columns, cancel),
    }
}

/// Every row's composed text and the names of its flagged `columns` (0/1 cells).
fn read_flag_columns(
    path: &Path,
    text: &TextSpec,
    columns: &[String],
    cancel: Option<&AtomicBool>,
) -> Result<Option<RawRows>> {
    let mut reader = RecordReader::open(path)?;
    let positions = text.positions(path, reader.headers())?;
    let flags: Vec<(usize, String)> = columns
        .iter()
        .map(|c| Ok((column_index(path, reader.headers(), c)?, c.clone())))
        .collect::<Result<_>>()?;
    let mut raw = RawRows::empty(path);
    let mut read = 0;
    while let Some(record) = reader.next_record()? {
        read += 1;
        if cancelled(cancel, read) {
            return Ok(None);
        }
        let mut values = Vec::new();
        for (i, name) in &flags {
            if flag(path, record.line, name, &record.cells[*i])? {
                values.push(name.clone());
            }
        }
        raw.rows.push(RawRow {
            line: record.line,
            text: text.compose(&record.cells, &positions),
            label: values.join("; "),
            values: Some(values),
        });
    }
    if raw.rows.is_empty() {
        return Err(EngineError::data(path, "has a header but no data rows"));
    }
    raw.warnings = reader.take_warnings();
    Ok(Some(raw))
}

impl RawRows {
    /// No rows yet, read from `path`.
    fn empty(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            rows: Vec::new(),
            skipped_empty_label: 0,
            warnings: Warnings::default(),
            label_separator: None,
        }
    }

    /// The labelled tickets, labels mapped through `map` when given (see
    /// [`read_labeled`]).
    pub fn labeled(&self, map: Option<&LabelMap>) -> Result<LabeledData> {
        self.label_rows(self.rows.iter().cloned(), map)
    }

    fn into_labeled(mut self, map: Option<&LabelMap>) -> Result<LabeledData> {
        let rows = std::mem::take(&mut self.rows);
        self.label_rows(rows.into_iter(), map)
    }

    fn label_rows(
        &self,
        rows: impl Iterator<Item = RawRow>,
        map: Option<&LabelMap>,
    ) -> Result<LabeledData> {
        let mut data = LabeledData {
            skipped_empty_label: self.skipped_empty_label,
            warnings: self.warnings.clone(),
            ..LabeledData::default()
        };
        for row in rows {
            if let Some(values) = &row.values {
                if row.text.is_empty() {
                    data.skipped_empty_text += 1;
                    if data.empty_text_lines.len() < EXAMPLE_LINES {
                        data.empty_text_lines.push(row.line);
                    }
                    continue;
                }
                let classes = values
                    .iter()
                    .filter_map(|v| map_value(&mut data, map, v))
                    .collect();
                data.examples
                    .push(Example::with_labels(row.text, classes, row.line));
                continue;
            }
            let Some(label) = map_value(&mut data, map, &row.label) else {
                continue;
            };
            if row.text.is_empty() {
                data.skipped_empty_text += 1;
                if data.empty_text_lines.len() < EXAMPLE_LINES {
                    data.empty_text_lines.push(row.line);
                }
                continue;
            }
            data.examples.push(Example {
                text: row.text,
                label,
                line: row.line,
                labels: None,
            });
        }
        if data.examples.is_empty() {
            return Err(EngineError::data(
                &self.path,
                format!(
                    "no usable rows: {} with an empty text, {} with an empty label, {} dropped by the label map. \
                     Check the text and label columns.",
                    data.skipped_empty_text, data.skipped_empty_label, data.dropped_by_map
                ),
            ));
        }
        data.labels = label_set(&data.examples);
        Ok(data)
    }
}

/// The class of raw label `value` through `map` (when given), counted in `data`'s
/// raw, unmapped and dropped tallies; `None` when the map drops it.
fn map_value(data: &mut LabeledData, map: Option<&LabelMap>, value: &str) -> Option<String> {
    *data.raw_label_counts.entry(value.to_string()).or_insert(0) += 1;
    let class = match map {
        None => Some(value.to_string()),
        Some(m) => match m.target(value) {
            Some(target) => target.map(str::to_string),
            None => {
                *data.unmapped.entry(value.to_string()).or_insert(0) += 1;
                m.keeps_unmapped().then(|| value.to_string())
            }
        },
    };
    if class.is_none() {
        data.dropped_by_map += 1;
    }
    class
}

/// [`read_labeled`] for labels held in `form` (see [`read_raw_as`]); a multi-label
/// row's values each go through `map` (dropped ones leave its set; `dropped_by_map`
/// counts values then).
pub fn read_labeled_as(
    path: &Path,
    text: &TextSpec,
    label_column: &str,
    form: &LabelForm,
    map: Option<&LabelMap>,
) -> Result<LabeledData> {
    match read_raw_as(path, text, label_column, form, None)? {
        Some(raw) => raw.into_labeled(map),
        None => Err(EngineError::data(path, "reading was cancelled")),
    }
}

/// Read labelled tickets, streaming: text composed per `text`, label from
/// `label_column`, mapped through `map` when given. Rows with an empty text or label,
/// or whose label the map drops, are skipped and counted.
pub fn read_labeled(
    path: &Path,
    text: &TextSpec,
    label_column: &str,
    map: Option<&LabelMap>,
) -> Result<LabeledData> {
    match read_raw(path, text, label_column, None)? {
        Some(raw) => raw.into_labeled(map),
        None => Err(EngineError::data(path, "reading was cancelled")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &[u8], suffix: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn reads_semicolon_bom_quoted_newlines_and_composes_columns() {
        let f = file("\u{feff}subject;body;label\r\n\"Crash\";\"line1\nline2\";bug\r\n;only body;bug\r\nx;;\r\n".as_bytes(), ".csv");
        let spec = TextSpec {
            columns: vec!["subject".into(), "body".into()],
            separator: " | ".into(),
            scrub: Vec::new(),
        };
        let data = read_labeled(f.path(), &spec, "label", None).unwrap();
        assert_eq!(data.examples.len(), 2);
        assert_eq!(data.examples[0].text, "Crash | line1\nline2");
        assert_eq!(data.examples[0].line, 2);
        assert_eq!(data.examples[1].text, "only body");
        assert_eq!(data.examples[1].line, 4);
        assert_eq!(data.skipped_empty_label, 1);
        assert_eq!(data.labels, vec!["bug"]);
    }

    #[test]
    fn reads_tsv_pipe_and_jsonl() {
        let tsv = file(b"text\tlabel\nhello, world\tbug\n", ".tsv");
        assert_eq!(
            read_labeled(tsv.path(), &TextSpec::column("text"), "label", None)
                .unwrap()
                .examples[0]
                .text,
            "hello, world"
        );
        let pipe = file(b"text|label\nhello; world|bug\n", ".csv");
        assert_eq!(
            read_labeled(pipe.path(), &TextSpec::column("text"), "label", None)
                .unwrap()
                .examples[0]
                .text,
            "hello; world"
        );
        let jsonl = file(b"{\"text\": \"crash on login\", \"label\": \"bug\", \"id\": 7}\n\n{\"label\": \"feature\", \"text\": \"dark mode\"}\n", ".jsonl");
        let data = read_labeled(jsonl.path(), &TextSpec::column("text"), "label", None).unwrap();
        assert_eq!(data.examples.len(), 2);
        assert_eq!(
            (data.examples[1].text.as_str(), data.examples[1].line),
            ("dark mode", 3)
        );
    }

    #[test]
    fn reads_utf16_and_windows_1252_with_a_warning() {
        let text = "text,label\ncafé crashes,bug\n";
        let mut utf16 = vec![0xff, 0xfe];
        for u in text.encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        let f = file(&utf16, ".csv");
        let data = read_labeled(f.path(), &TextSpec::column("text"), "label", None).unwrap();
        assert_eq!(data.examples[0].text, "café crashes");
        assert!(data.warnings.is_empty());
        let latin = file(
            b"text,label\ncaf\xe9 cr\xe8me br\xfbl\xe9e crashes,bug\n",
            ".csv",
        );
        let data = read_labeled(latin.path(), &TextSpec::column("text"), "label", None).unwrap();
        assert_eq!(data.examples[0].text, "café crème brûlée crashes");
        assert!(
            data.warnings.items()[0].message.contains("not UTF-8"),
            "{:?}",
            data.warnings
        );
    }

    #[test]
    fn missing_column_lists_the_columns() {
        let f = file(b"text,label\nhello,bug\n", ".csv");
        let err = read_labeled(f.path(), &TextSpec::column("body"), "label", None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("'body'") && msg.contains("'text'") && msg.contains("'label'"),
            "{msg}"
        );
    }
}
