//! Delimited records read field by field with bounded memory: each cell keeps at most
//! [`MAX_CELL_BYTES`], a record keeps at most [`MAX_KEPT_RECORD_BYTES`] in all, and a
//! record may span at most [`MAX_RECORD_BYTES`] of the file (more is an error naming
//! the line it starts on: a quote left open, or a file without line breaks).

use super::source::{MAX_CELL_BYTES, MAX_RECORD_BYTES};
use crate::error::{EngineError, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Most bytes of cell text one record keeps (cells past it are cut).
pub const MAX_KEPT_RECORD_BYTES: usize = 16 << 20;
const BUFFER: usize = 64 * 1024;

/// One record as read: where it starts, the first cells, how many fields it had, and
/// which of the kept cells were cut.
pub(super) struct RawRecord {
    pub line: usize,
    pub cells: Vec<String>,
    pub fields: usize,
    pub cut: Vec<usize>,
}

/// A stream of delimited records.
pub(super) struct DelimitedRows {
    core: csv_core::Reader,
    input: BufReader<Box<dyn Read>>,
    scratch: Vec<u8>,
    /// Line breaks consumed so far.
    newlines: usize,
}

impl DelimitedRows {
    pub fn new(input: Box<dyn Read>, delimiter: u8) -> Self {
        Self {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            input: BufReader::with_capacity(BUFFER, input),
            scratch: vec![0; BUFFER],
            newlines: 0,
        }
    }

    /// The next record of `path`, keeping at most `keep` cells (the others are only
    /// counted); `None` at the end of the file.
    pub fn next(&mut self, path: &Path, keep: usize) -> Result<Option<RawRecord>> {
        if !self.skip_line_breaks(path)? {
            return Ok(None);
        }
        let line = self.newlines + 1;
        let mut record = RawRecord {
            line,
            cells: Vec::new(),
            fields: 0,
            cut: Vec::new(),
        };
        let mut cell = Vec::new();
        let mut cell_cut = false;
        let mut room = MAX_KEPT_RECORD_BYTES;
        let mut span = 0usize;
        loop {
            let input = self
                .input
                .fill_buf()
                .map_err(|e| EngineError::io(path, e))?;
            let (result, read, written) = self.core.read_field(input, &mut self.scratch);
            self.newlines += input[..read].iter().filter(|&&b| b == b'\n').count();
            self.input.consume(read);
            span += read;
            if record.fields < keep {
                let take = written
                    .min((MAX_CELL_BYTES + 3).saturating_sub(cell.len()))
                    .min(room);
                cell.extend_from_slice(&self.scratch[..take]);
                room -= take;
                cell_cut |= take < written;
            }
            match result {
                csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
                csv_core::ReadFieldResult::Field { record_end } => {
                    if record.fields < keep {
                        let (text, cut) = finish_cell(std::mem::take(&mut cell), cell_cut);
                        if cut {
                            record.cut.push(record.cells.len());
                        }
                        record.cells.push(text);
                    }
                    cell_cut = false;
                    record.fields += 1;
                    if record_end {
                        return Ok(Some(record));
                    }
                }
                csv_core::ReadFieldResult::End => {
                    return Ok((record.fields > 0).then_some(record));
                }
            }
            if span > MAX_RECORD_BYTES {
                return Err(EngineError::data(
                    path,
                    format!(
                        "line {line}: the row starting here runs on for more than {} MB without ending. \
                         A quote is probably left open (a \" with no closing one), or the file has no line breaks. \
                         Close the quote (or remove the stray \"), or export the file again as CSV with one ticket per line.",
                        MAX_RECORD_BYTES >> 20
                    ),
                ));
            }
        }
    }

    /// Consume blank line breaks before a record; `false` at the end of the file.
    fn skip_line_breaks(&mut self, path: &Path) -> Result<bool> {
        loop {
            let input = self
                .input
                .fill_buf()
                .map_err(|e| EngineError::io(path, e))?;
            if input.is_empty() {
                return Ok(false);
            }
            let blank = input
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            self.newlines += input[..blank].iter().filter(|&&b| b == b'\n').count();
            let more = blank < input.len();
            self.input.consume(blank);
            if more {
                return Ok(true);
            }
        }
    }
}

/// A kept cell as text at most [`MAX_CELL_BYTES`] long, and whether it was cut.
fn finish_cell(mut bytes: Vec<u8>, mut cut: bool) -> (String, bool) {
    if bytes.len() > MAX_CELL_BYTES {
        cut = true;
    }
    if cut {
        // The decoded input is UTF-8: only a cut can leave half a character at the end.
        if let Err(e) = std::str::from_utf8(&bytes) {
            bytes.truncate(e.valid_up_to());
        }
    }
    let mut text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if text.len() > MAX_CELL_BYTES {
        let mut end = MAX_CELL_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    (text, cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn rows(bytes: &[u8]) -> DelimitedRows {
        DelimitedRows::new(Box::new(Cursor::new(bytes.to_vec())), b',')
    }

    #[test]
    fn reads_records_with_their_start_lines_and_skips_blank_lines() {
        let mut r = rows(b"a,b\n\n\"x\ny\",z\n\nlast,1");
        let p = Path::new("t.csv");
        let first = r.next(p, 10).unwrap().unwrap();
        assert_eq!(
            (first.line, first.cells.clone()),
            (1, vec!["a".into(), "b".into()])
        );
        let second = r.next(p, 10).unwrap().unwrap();
        assert_eq!(
            (second.line, second.cells),
            (3, vec!["x\ny".into(), "z".into()])
        );
        let third = r.next(p, 1).unwrap().unwrap();
        assert_eq!(
            (third.line, third.fields, third.cells),
            (6, 2, vec!["last".into()])
        );
        assert!(r.next(p, 10).unwrap().is_none());
    }

    #[test]
    fn a_row_spanning_too_much_of_the_file_is_an_error_naming_its_line() {
        let mut bytes = b"text,label\nok,bug\n\"open".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        let mut r = rows(&bytes);
        let p = Path::new("t.csv");
        r.next(p, 10).unwrap();
        r.next(p, 10).unwrap();
        let err = match r.next(p, 10) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error"),
        };
        assert!(
            err.contains("t.csv: line 3:") && err.contains("quote"),
            "{err}"
        );
    }

    #[test]
    fn long_cells_are_cut_on_a_character_boundary() {
        let mut bytes = "é".repeat(MAX_CELL_BYTES).into_bytes();
        bytes.extend(b",x\n");
        let record = rows(&bytes).next(Path::new("t.csv"), 10).unwrap().unwrap();
        assert_eq!(record.cells[0].len(), MAX_CELL_BYTES);
        assert_eq!(record.cut, vec![0]);
        assert_eq!(record.cells[1], "x");
    }
}
