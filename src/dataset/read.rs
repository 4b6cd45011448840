//! Reading CSV/TSV files with a sniffed delimiter into rows of named columns.

use super::{Example, LabeledData, TextSpec};
use crate::error::{EngineError, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// A delimited file: header names and rows (each with the line it starts on).
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    pub delimiter: u8,
}

impl Table {
    /// Position of column `name` (exact, then trimmed case-insensitive match), or an
    /// error that lists the columns the file has.
    pub fn column(&self, path: &Path, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .or_else(|| {
                self.headers
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            })
            .ok_or_else(|| {
                EngineError::data(
                    path,
                    format!(
                        "no column named '{name}'. The file's columns are: {}. \
                         Pick one with --text-column / --label-column.",
                        self.headers
                            .iter()
                            .map(|h| format!("'{h}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// The composed text of every row, per `spec` (empty parts skipped). An unknown
    /// column, or none at all, is an error.
    pub fn texts(&self, path: &Path, spec: &TextSpec) -> Result<Vec<String>> {
        let positions = spec
            .columns
            .iter()
            .map(|c| self.column(path, c))
            .collect::<Result<Vec<_>>>()?;
        if positions.is_empty() {
            return Err(EngineError::Config("no text column given".into()));
        }
        Ok(self
            .rows
            .iter()
            .map(|(_, row)| {
                positions
                    .iter()
                    .filter_map(|&i| row.get(i).map(|s| s.trim()))
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(&spec.separator)
            })
            .collect())
    }
}

/// Read a whole delimited file (comma, semicolon, tab or pipe, sniffed from the header;
/// UTF-8 with or without BOM).
pub fn read_table(path: &Path) -> Result<Table> {
    if path.is_dir() {
        return Err(EngineError::data(path, "is a folder, not a data file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| EngineError::io(path, e))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(EngineError::data(
                path,
                format!(
                "is not valid UTF-8 (first bad byte at offset {}). Save it as UTF-8 and try again.",
                e.valid_up_to()
            ),
            ))
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(EngineError::data(
            path,
            "is empty: expected a header row and data rows",
        ));
    }
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| EngineError::data(path, format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            EngineError::data(path, format!("line {line}: {e}"))
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    if rows.is_empty() {
        return Err(EngineError::data(path, "has a header but no data rows"));
    }
    Ok(Table {
        headers,
        rows,
        delimiter,
    })
}

/// Read labelled tickets: text composed per `text`, label from `label_column`.
/// Rows with an empty text or label are skipped and counted.
pub fn read_labeled(path: &Path, text: &TextSpec, label_column: &str) -> Result<LabeledData> {
    let table = read_table(path)?;
    let texts = table.texts(path, text)?;
    let label_col = table.column(path, label_column)?;
    let mut examples = Vec::with_capacity(table.rows.len());
    let (mut skipped_empty_text, mut skipped_empty_label) = (0, 0);
    for ((line, row), composed) in table.rows.iter().zip(texts) {
        let label = row.get(label_col).map(|s| s.trim()).unwrap_or("");
        if label.is_empty() {
            skipped_empty_label += 1;
        } else if composed.is_empty() {
            skipped_empty_text += 1;
        } else {
            examples.push(Example {
                text: composed,
                label: label.to_string(),
                line: *line,
            });
        }
    }
    if examples.is_empty() {
        return Err(EngineError::data(
            path,
            format!(
                "no usable rows: {skipped_empty_text} with an empty text, {skipped_empty_label} with an empty label"
            ),
        ));
    }
    let labels: Vec<String> = examples
        .iter()
        .map(|e| e.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(LabeledData {
        examples,
        labels,
        skipped_empty_text,
        skipped_empty_label,
    })
}

fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|&d| header.bytes().filter(|&b| b == d).count())
        .filter(|&d| header.bytes().any(|b| b == d))
        .unwrap_or(b',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn reads_semicolon_bom_quoted_newlines_and_composes_columns() {
        let f = file(
            "\u{feff}subject;body;label\n\"Crash\";\"line1\nline2\";bug\n;only body;bug\nx;;\n"
                .as_bytes(),
        );
        let spec = TextSpec {
            columns: vec!["subject".into(), "body".into()],
            separator: " | ".into(),
        };
        let data = read_labeled(f.path(), &spec, "label").unwrap();
        assert_eq!(data.examples.len(), 2);
        assert_eq!(data.examples[0].text, "Crash | line1\nline2");
        assert_eq!(data.examples[0].line, 2);
        assert_eq!(data.examples[1].text, "only body");
        assert_eq!(data.examples[1].line, 4);
        assert_eq!(data.skipped_empty_label, 1);
        assert_eq!(data.labels, vec!["bug"]);
    }

    #[test]
    fn missing_column_lists_the_columns() {
        let f = file(b"text,label\nhello,bug\n");
        let err = read_labeled(f.path(), &TextSpec::column("body"), "label").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("'body'") && msg.contains("'text'") && msg.contains("'label'"),
            "{msg}"
        );
    }

    #[test]
    fn empty_header_only_and_non_utf8_files_are_clear_errors() {
        let empty = file(b"");
        assert!(read_table(empty.path())
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let header = file(b"text,label\n");
        assert!(read_table(header.path())
            .unwrap_err()
            .to_string()
            .contains("no data rows"));
        let latin1 = file(b"text,label\ncaf\xe9,bug\n");
        assert!(read_table(latin1.path())
            .unwrap_err()
            .to_string()
            .contains("UTF-8"));
        let dir = tempfile::tempdir().unwrap();
        assert!(read_table(dir.path())
            .unwrap_err()
            .to_string()
            .contains("folder"));
    }
}
