//! Opening any ticket file as a stream of records: CSV (delimiter sniffed: comma,
//! semicolon, tab, pipe), TSV, JSONL; UTF-8 with or without BOM, UTF-16 with BOM, other
//! encodings detected and reported. Binary files (gzip, ZIP/XLSX, PDF, NUL-filled) are
//! refused with a message saying what to do. Memory stays bounded by one record: a
//! record may span at most [`MAX_RECORD_BYTES`] of the file, a JSONL line at most
//! [`MAX_JSONL_LINE_BYTES`].

use super::delimited::{DelimitedRows, RawRecord};
use super::warnings::Warnings;
use crate::error::{EngineError, Result};
use encoding_rs::Encoding;
use encoding_rs_io::DecodeReaderBytesBuilder;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// Longest cell kept; longer ones are cut at this many bytes with a warning.
pub const MAX_CELL_BYTES: usize = 1 << 20;
/// Most bytes of the file one CSV/TSV record may span.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Longest JSONL line: a line is parsed whole, and parsed JSON takes several times
/// its text's size.
pub const MAX_JSONL_LINE_BYTES: usize = 8 << 20;
/// Most columns accepted: ticket exports have a handful.
pub const MAX_COLUMNS: usize = 10_000;
const SNIFF_BYTES: usize = 64 * 1024;

/// The layout of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Format {
    /// Delimited text with a header row.
    Delimited { delimiter: char },
    /// One JSON object per line.
    Jsonl,
}

/// One data row: the line it starts on (header = line 1) and its cells, one per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: usize,
    pub cells: Vec<String>,
}

enum Rows {
    Delimited(Box<DelimitedRows>),
    Jsonl {
        input: BufReader<Box<dyn Read>>,
        line: usize,
        buf: Vec<u8>,
    },
}

/// A streaming reader of records with its header, encoding and the warnings so far.
pub struct RecordReader {
    path: PathBuf,
    headers: Vec<String>,
    format: Format,
    encoding: &'static Encoding,
    rows: Rows,
    warnings: Warnings,
}

impl RecordReader {
    /// Open `path`, detect encoding and format, and read the header.
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(EngineError::data(
                path,
                "is a folder, not a data file: pick the CSV, TSV or JSONL file inside it",
            ));
        }
        let mut file = File::open(path).map_err(|e| EngineError::io(path, e))?;
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|e| EngineError::io(path, e))?;
        let complete = head.len() < SNIFF_BYTES;
        refuse_binary(path, &head)?;
        let mut warnings = Warnings::default();
        let encoding = detect_encoding(&head, complete);
        if encoding != encoding_rs::UTF_8
            && encoding != encoding_rs::UTF_16LE
            && encoding != encoding_rs::UTF_16BE
        {
            warnings.add(
                "encoding",
                None,
                format!(
                    "the file is not UTF-8; it was read as {} (detected). If characters look wrong, save it as UTF-8.",
                    encoding.name()
                ),
            );
        }
        let stream: Box<dyn Read> = Box::new(Cursor::new(head).chain(file));
        let decoded = decode(stream, encoding);
        let is_jsonl = matches!(
            path.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("jsonl" | "ndjson")
        );
        let mut reader = if is_jsonl {
            Self::open_jsonl(path, decoded, encoding, warnings)?
        } else {
            Self::open_delimited(path, decoded, encoding, warnings)?
        };
        reader.check_headers()?;
        Ok(reader)
    }

    fn open_delimited(
        path: &Path,
        decoded: Box<dyn Read>,
        encoding: &'static Encoding,
        warnings: Warnings,
    ) -> Result<Self> {
        // The decoder may hand out only a few bytes per read: gather a full sample.
        let mut decoded = decoded;
        let mut sample = Vec::with_capacity(SNIFF_BYTES);
        (&mut decoded)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(|e| EngineError::io(path, e))?;
        let text = String::from_utf8_lossy(&sample).into_owned();
        if text.trim().is_empty() {
            return Err(EngineError::data(
                path,
                "is empty: expected a header row and data rows",
            ));
        }
        let is_tsv = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        let delimiter = if is_tsv {
            b'\t'
        } else {
            sniff_delimiter(&text)
        };
        // Line numbers count LF: read CRLF as LF (a lone CR is kept).
        let boxed: Box<dyn Read> = Box::new(CrlfToLf::new(Cursor::new(sample).chain(decoded)));
        let mut rows = DelimitedRows::new(boxed, delimiter);
        let Some(header) = rows.next(path, MAX_COLUMNS + 1)? else {
            return Err(EngineError::data(
                path,
                "is empty: expected a header row and data rows",
            ));
        };
        if header.fields > MAX_COLUMNS {
            return Err(too_many_columns(path, header.fields));
        }
        Ok(Self {
            path: path.to_path_buf(),
            headers: header.cells,
            format: Format::Delimited {
                delimiter: delimiter as char,
            },
            encoding,
            rows: Rows::Delimited(Box::new(rows)),
            warnings,
        })
    }

    fn open_jsonl(
        path: &Path,
        decoded: Box<dyn Read>,
        encoding: &'static Encoding,
        warnings: Warnings,
    ) -> Result<Self> {
        let mut input = BufReader::with_capacity(SNIFF_BYTES, decoded);
        let mut buf = Vec::new();
        let mut line = 0;
        let headers = loop {
            line += 1;
            if !read_line(path, &mut input, &mut buf, line)? {
                return Err(EngineError::data(
                    path,
                    "is empty: expected one JSON object per line",
                ));
            }
            let text = String::from_utf8_lossy(&buf);
            if text.trim().is_empty() {
                continue;
            }
            let object = parse_object(path, line, &text)?;
            break object.keys().cloned().collect::<Vec<_>>();
        };
        // Re-read from the start so the first object is also a record.
        let file = File::open(path).map_err(|e| EngineError::io(path, e))?;
        let decoded = decode(Box::new(file), encoding);
        Ok(Self {
            path: path.to_path_buf(),
            headers,
            format: Format::Jsonl,
            encoding,
            rows: Rows::Jsonl {
                input: BufReader::with_capacity(SNIFF_BYTES, decoded),
                line: 0,
                buf,
            },
            warnings,
        })
    }

    fn check_headers(&mut self) -> Result<()> {
        if self.headers.len() > MAX_COLUMNS {
            return Err(too_many_columns(&self.path, self.headers.len()));
        }
        let mut trimmed = false;
        for h in &mut self.headers {
            let t = h.trim().trim_matches('\u{feff}').to_string();
            trimmed |= t != *h;
            *h = t;
        }
        if trimmed {
            self.warnings.add(
                "header",
                Some(1),
                "column names had surrounding spaces; they were trimmed".into(),
            );
        }
        if self.headers.iter().all(String::is_empty) {
            return Err(EngineError::data(
                &self.path,
                "line 1: the header row is empty: the first line must name the columns",
            ));
        }
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for i in 0..self.headers.len() {
            if self.headers[i].is_empty() {
                self.headers[i] = format!("column_{}", i + 1);
            }
            let n = seen.entry(self.headers[i].clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                let renamed = format!("{}_{}", self.headers[i], n);
                self.warnings.add(
                    "header",
                    Some(1),
                    format!(
                        "column name '{}' appears more than once; the repeat is called '{renamed}'",
                        self.headers[i]
                    ),
                );
                self.headers[i] = renamed;
            }
        }
        Ok(())
    }

    /// Column names (trimmed, made unique).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The encoding the file was read with.
    pub fn encoding(&self) -> &'static str {
        self.encoding.name()
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Warnings gathered so far (encoding, ragged rows, truncated cells, …).
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// Take the warnings, leaving none.
    pub fn take_warnings(&mut self) -> Warnings {
        std::mem::take(&mut self.warnings)
    }

    /// The next record, padded or cut to the header's width; `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        let width = self.headers.len();
        let (line, mut cells, fields, mut cut) = match &mut self.rows {
            Rows::Delimited(rows) => loop {
                let Some(RawRecord {
                    line,
                    cells,
                    fields,
                    cut,
                }) = rows.next(&self.path, width)?
                else {
                    return Ok(None);
                };
                if fields == 1 && cells.first().is_none_or(|c| c.trim().is_empty()) {
                    continue;
                }
                break (line, cells, fields, cut);
            },
            Rows::Jsonl { input, line, buf } => loop {
                *line += 1;
                if !read_line(&self.path, input, buf, *line)? {
                    return Ok(None);
                }
                let text = String::from_utf8_lossy(buf);
                if text.trim().is_empty() {
                    continue;
                }
                let object = parse_object(&self.path, *line, &text)?;
                let extra: Vec<&String> = object
                    .keys()
                    .filter(|k| !self.headers.contains(k))
                    .collect();
                if !extra.is_empty() {
                    self.warnings.add(
                        "jsonl_keys",
                        Some(*line),
                        format!(
                            "keys not on the first line are ignored (e.g. {:?})",
                            extra[0]
                        ),
                    );
                }
                let cells: Vec<String> = self
                    .headers
                    .iter()
                    .map(|h| match object.get(h) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                    })
                    .collect();
                break (*line, cells, width, Vec::new());
            },
        };
        let runaway_quote = fields < width
            && matches!(self.format, Format::Delimited { .. })
            && cells.last().is_some_and(|c| c.contains('\n'));
        if runaway_quote {
            self.warnings.add(
                "unclosed_quote",
                Some(line),
                "a quoted cell runs on past the end of its row: a closing quote is probably missing, and the rows after it were swallowed into it".into(),
            );
        }
        if fields != width {
            self.warnings.add(
                "ragged",
                Some(line),
                format!(
                    "rows with a different number of cells than the header ({}) were padded or cut; check for an unquoted delimiter",
                    self.headers.len()
                ),
            );
            cells.resize(width, String::new());
        }
        for (i, cell) in cells.iter_mut().enumerate() {
            if cell.len() > MAX_CELL_BYTES {
                let mut end = MAX_CELL_BYTES;
                while !cell.is_char_boundary(end) {
                    end -= 1;
                }
                cell.truncate(end);
                cut.push(i);
            }
            if cell.contains('\0') {
                cell.retain(|c| c != '\0');
                self.warnings.add(
                    "nul",
                    Some(line),
                    "NUL bytes were removed from cells".into(),
                );
            }
            if cell.contains('\u{fffd}') {
                self.warnings.add(
                    "invalid_bytes",
                    Some(line),
                    "cells contain bytes that are not valid in the file's encoding (shown as \u{fffd}); save the file as UTF-8".into(),
                );
            }
        }
        for i in cut {
            self.warnings.add(
                "long_cell",
                Some(line),
                format!(
                    "cells longer than 1 MB were cut to 1 MB (column '{}'); a quote left open can also cause this",
                    self.headers[i]
                ),
            );
        }
        Ok(Some(Record { line, cells }))
    }
}

/// A reader that turns every CRLF into LF (a lone CR is kept).
struct CrlfToLf<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    held_cr: bool,
    eof: bool,
}

impl<R: Read> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(8192),
            pos: 0,
            held_cr: false,
            eof: false,
        }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.pos < self.buf.len() {
                let n = out.len().min(self.buf.len() - self.pos);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.eof || out.is_empty() {
                return Ok(0);
            }
            let mut chunk = [0u8; 8192];
            let n = self.inner.read(&mut chunk)?;
            self.buf.clear();
            self.pos = 0;
            if n == 0 {
                self.eof = true;
                if std::mem::take(&mut self.held_cr) {
                    self.buf.push(b'\r');
                }
                continue;
            }
            for &b in &chunk[..n] {
                if std::mem::take(&mut self.held_cr) && b != b'\n' {
                    self.buf.push(b'\r');
                }
                if b == b'\r' {
                    self.held_cr = true;
                } else {
                    self.buf.push(b);
                }
            }
        }
    }
}

/// Read the next line of `input` into `buf` (without its line break); `false` at the
/// end. A line longer than [`MAX_JSONL_LINE_BYTES`] is an error naming `line`.
fn read_line(
    path: &Path,
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line: usize,
) -> Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = input.fill_buf().map_err(|e| EngineError::io(path, e))?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > MAX_JSONL_LINE_BYTES {
            return Err(EngineError::data(
                path,
                format!(
                    "line {line}: the line is longer than {} MB. JSONL needs one JSON object per line: \
                     check that the file has line breaks, or save long texts in a CSV file.",
                    MAX_JSONL_LINE_BYTES >> 20
                ),
            ));
        }
        buf.extend_from_slice(&chunk[..take]);
        input.consume(take);
        if done {
            break;
        }
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(any)
}

fn too_many_columns(path: &Path, columns: usize) -> EngineError {
    EngineError::data(
        path,
        format!(
            "the header has {columns} columns (at most {MAX_COLUMNS} are supported): is this really a ticket export, and is the delimiter right?"
        ),
    )
}

/// `stream` decoded from `encoding` (a BOM, if any, wins and is stripped) to UTF-8.
fn decode(stream: Box<dyn Read>, encoding: &'static Encoding) -> Box<dyn Read> {
    Box::new(
        DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_sniffing(true)
            .strip_bom(true)
            .build(stream),
    )
}

fn parse_object(
    path: &Path,
    line: usize,
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(EngineError::data(
            path,
            format!("line {line}: expected a JSON object {{...}}, found another JSON value"),
        )),
        Err(e) => Err(EngineError::data(
            path,
            format!("line {line}: not valid JSON ({e}); JSONL needs one complete object per line"),
        )),
    }
}

fn refuse_binary(path: &Path, head: &[u8]) -> Result<()> {
    let what = if head.starts_with(&[0x1f, 0x8b]) {
        Some("a gzip archive: unpack it first (gunzip) and give the CSV inside")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive or an Excel .xlsx workbook: open it and save/export it as CSV (UTF-8)")
    } else if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        Some("an old Excel .xls workbook: open it and save/export it as CSV (UTF-8)")
    } else if head.starts_with(b"%PDF") {
        Some("a PDF document, not a data file: export the table as CSV")
    } else {
        let utf16_bom = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
        let nul = head.iter().filter(|&&b| b == 0).count();
        (!utf16_bom && nul * 10 > head.len().max(1))
            .then_some("binary data, not text: give a CSV, TSV or JSONL file")
    };
    match what {
        Some(what) => Err(EngineError::data(path, format!("looks like {what}"))),
        None => Ok(()),
    }
}

fn detect_encoding(head: &[u8], complete: bool) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(head) {
        return enc;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return encoding_rs::UTF_8,
        // A multi-byte character cut by the sniff window is still UTF-8.
        Err(e) if e.error_len().is_none() && !complete => return encoding_rs::UTF_8,
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(head, complete);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// The delimiter that splits the first line into the most fields (outside quotes).
fn sniff_delimiter(sample: &str) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut in_quotes = false;
    for b in sample.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = candidates.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_across_chunk_boundaries() {
        let mut input = vec![b'a'; 8191];
        input.extend(b"\r\nb\rc\r\n\r");
        let mut out = Vec::new();
        CrlfToLf::new(Cursor::new(input))
            .read_to_end(&mut out)
            .unwrap();
        let mut want = vec![b'a'; 8191];
        want.extend(b"\nb\rc\n\r");
        assert_eq!(out, want);
    }

    #[test]
    fn sniffs_the_delimiter_outside_quotes() {
        assert_eq!(sniff_delimiter("\"a,b,c\";label\nx;y"), b';');
        assert_eq!(sniff_delimiter("text\tlabel\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c"), b'|');
        assert_eq!(sniff_delimiter("single"), b',');
    }
}
