//! The data screen's memory between commands: the file last read, with its rows, token
//! counts and language report, so another label map, model or split is checked without reading it
//! again, and the flag that cancels the inspection in progress.

use crate::error::AppResult;
use crate::sync::lock;
use dialect::dataset::inspect::{FileRows, TokenCounts};
use dialect::dataset::language::{ChosenModel, LanguageReport};
use dialect::dataset::LabelForm;
use dialect::model::tokenize::TextEncoder;
use dialect::TextSpec;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The file last read and the current inspection's cancel flag.
#[derive(Default, Clone)]
pub struct DataState {
    file: Arc<Mutex<Option<Arc<ReadFile>>>>,
    cancel: Arc<Mutex<Arc<AtomicBool>>>,
}

/// A file read with some columns, and its token counts and language report for the
/// last model measured.
pub struct ReadFile {
    key: FileKey,
    pub rows: FileRows,
    tokens: Mutex<Option<(PathBuf, Arc<TokenCounts>)>>,
    language: Mutex<Option<(LanguageKey, LanguageReport)>>,
}

/// The model (id and folder, if on this machine) a language report was made for.
type LanguageKey = Option<(String, Option<PathBuf>)>;

impl ReadFile {
    /// Whether this read answers `key`: the same file, unchanged, with the columns asked
    /// for (asked for by name, or left to the same suggestion) and the same label form.
    fn serves(&self, key: &FileKey) -> bool {
        let same_file =
            (&self.key.path, self.key.len, self.key.modified) == (&key.path, key.len, key.modified);
        let text = key.text == self.key.text || (key.text.is_some() && key.text == self.rows.text);
        let label = key.label_column == self.key.label_column
            || (key.label_column.is_some() && key.label_column == self.rows.label_column);
        same_file && text && label && key.label_form == self.key.label_form
    }

    /// The token counts with the tokenizer in `dir`, from memory or measured now;
    /// `None` when cancelled.
    pub fn token_counts(
        &self,
        dir: &Path,
        max_length: usize,
        cancel: &AtomicBool,
    ) -> AppResult<Option<Arc<TokenCounts>>> {
        if let Some((_, tokens)) = lock(&self.tokens).as_ref().filter(|(d, _)| d == dir) {
            return Ok(Some(tokens.clone()));
        }
        let encoder = TextEncoder::load(dir, max_length.max(2))?;
        let Some(tokens) = self.rows.token_counts(&encoder, Some(cancel))? else {
            return Ok(None);
        };
        let tokens = Arc::new(tokens);
        *lock(&self.tokens) = Some((dir.to_path_buf(), tokens.clone()));
        Ok(Some(tokens))
    }

    /// The rows' languages and `model`'s vocabulary fit, from memory or measured now;
    /// `None` when there are no rows.
    pub fn language(&self, model: Option<ChosenModel>) -> AppResult<Option<LanguageReport>> {
        let key: LanguageKey = model.map(|m| (m.id.to_string(), m.folder.map(Path::to_path_buf)));
        if let Some((_, report)) = lock(&self.language).as_ref().filter(|(k, _)| *k == key) {
            return Ok(Some(report.clone()));
        }
        let Some(report) = self.rows.language(model)? else {
            return Ok(None);
        };
        *lock(&self.language) = Some((key, report.clone()));
        Ok(Some(report))
    }
}

/// What a read depends on: the file (and its size and time, to notice edits), the
/// columns asked for and how the labels are held.
#[derive(PartialEq)]
pub struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    text: Option<TextSpec>,
    label_column: Option<String>,
    label_form: LabelForm,
}

impl FileKey {
    pub fn new(
        path: &Path,
        text: &Option<TextSpec>,
        label_column: &Option<String>,
        label_form: &LabelForm,
    ) -> Self {
        let meta = std::fs::metadata(path).ok();
        Self {
            path: path.to_path_buf(),
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
            text: text.clone(),
            label_column: label_column.clone(),
            label_form: label_form.clone(),
        }
    }
}

impl DataState {
    /// A fresh cancel flag for a new inspection; the one before it is cancelled (a newer
    /// request supersedes it).
    pub fn start(&self) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        let old = std::mem::replace(&mut *lock(&self.cancel), flag.clone());
        old.store(true, Ordering::Relaxed);
        flag
    }

    /// Cancel the inspection in progress.
    pub fn cancel_current(&self) {
        lock(&self.cancel).store(true, Ordering::Relaxed);
    }

    /// The file read with `key`, from memory or read now; `None` when cancelled.
    pub fn read(&self, key: FileKey, cancel: &AtomicBool) -> AppResult<Option<Arc<ReadFile>>> {
        if let Some(file) = lock(&self.file).as_ref().filter(|f| f.serves(&key)) {
            return Ok(Some(file.clone()));
        }
        let Some(rows) = FileRows::read_as(
            &key.path,
            key.text.clone(),
            key.label_column.clone(),
            key.label_form.clone(),
            Some(cancel),
        )?
        else {
            return Ok(None);
        };
        let file = Arc::new(ReadFile {
            key,
            rows,
            tokens: Mutex::new(None),
            language: Mutex::new(None),
        });
        *lock(&self.file) = Some(file.clone());
        Ok(Some(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_rows(path: &Path, rows: usize, label: &str) {
        let mut text = String::from("text,label\n");
        for i in 0..rows {
            text.push_str(&format!("ticket {i} about the app,{label}{}\n", i % 3));
        }
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_file_is_read_once_for_many_checks_and_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_rows(&path, 3_000, "class");
        let data = DataState::default();
        let key = || FileKey::new(&path, &None, &None, &LabelForm::Single);
        let first = data.read(key(), &AtomicBool::new(false)).unwrap().unwrap();
        // Another label map or card move: served from memory, even with a cancel flag set
        // (a read would stop at once and give nothing).
        let again = data.read(key(), &AtomicBool::new(true)).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // The suggested columns, now named: the same read.
        let named = FileKey::new(
            &path,
            &Some(TextSpec::columns(vec!["text".into()])),
            &Some("label".into()),
            &LabelForm::Single,
        );
        let named = data.read(named, &AtomicBool::new(true)).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &named));
        // Other columns, another label form, or an edited file: read again.
        let other = FileKey::new(&path, &None, &Some("text".into()), &LabelForm::Single);
        assert!(data.read(other, &AtomicBool::new(true)).unwrap().is_none());
        let split = LabelForm::Separated { separator: None };
        let split = FileKey::new(&path, &None, &None, &split);
        assert!(data.read(split, &AtomicBool::new(true)).unwrap().is_none());
        write_rows(&path, 3_001, "kind");
        let edited = data.read(key(), &AtomicBool::new(false)).unwrap().unwrap();
        assert_eq!(edited.rows.profile.rows, 3_001);
    }

    #[test]
    fn a_new_inspection_cancels_the_one_before() {
        let data = DataState::default();
        let first = data.start();
        let second = data.start();
        assert!(first.load(Ordering::Relaxed));
        assert!(!second.load(Ordering::Relaxed));
    }
}
