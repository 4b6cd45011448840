//! Data screen and label board: choose a file, profile and check it, read example
//! rows, save and load label maps.

use crate::dialogs;
use crate::error::{blocking, AppError, AppResult};
use crate::state::{lock, AppState};
use dialect::dataset::inspect::{FileRows, InspectOptions, Inspection, SplitPlan, TokenCounts};
use dialect::dataset::{rows_at, LabelMap};
use dialect::model::resolve::model_status;
use dialect::model::tokenize::TextEncoder;
use dialect::TextSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tauri::State;

const DATA_FILTERS: &[(&str, &[&str])] = &[
    (
        "Tickets (CSV, TSV, JSONL)",
        &["csv", "tsv", "txt", "jsonl", "ndjson"],
    ),
    ("All files", &["*"]),
];

/// How texts from several columns are joined (as the CLI does).
const TEXT_SEPARATOR: &str = "\n\n";

/// Ask for a data file.
#[tauri::command]
pub async fn pick_data_file(state: State<'_, AppState>) -> AppResult<Option<PathBuf>> {
    let path = dialogs::open_file("Choose a file of labelled tickets", DATA_FILTERS).await;
    if let Some(path) = &path {
        state.grant(path);
    }
    Ok(path)
}

/// The sample data that ships with the app.
#[derive(Serialize)]
pub struct Sample {
    pub path: PathBuf,
    pub name: String,
    pub attribution: String,
}

/// Where the bundled sample is, and whose it is.
#[tauri::command]
pub fn sample_data(state: State<'_, AppState>) -> AppResult<Sample> {
    if !state.sample.is_file() {
        return Err(AppError::not_found(format!(
            "the sample data is missing from this installation ({})",
            state.sample.display()
        )));
    }
    state.grant(&state.sample);
    Ok(Sample {
        path: state.sample.clone(),
        name: "Banking77 (10,377 customer-service messages, 77 intents)".into(),
        attribution: "Banking77 by Casanueva et al. (2020), PolyAI, CC BY 4.0".into(),
    })
}

/// Text columns as a spec, or `None` to let the profile suggest one.
fn text_spec(columns: Option<Vec<String>>) -> Option<TextSpec> {
    columns.filter(|c| !c.is_empty()).map(|columns| TextSpec {
        columns,
        separator: TEXT_SEPARATOR.into(),
    })
}

/// The data screen's memory between commands: the file last read (so another label
/// map, model or split is checked without reading it again) and the flag that cancels
/// the inspection in progress.
#[derive(Default, Clone)]
pub struct DataState {
    file: Arc<Mutex<Option<Arc<ReadFile>>>>,
    cancel: Arc<Mutex<Arc<AtomicBool>>>,
}

/// A file read with some columns, and its token counts for the last model measured.
struct ReadFile {
    key: FileKey,
    rows: FileRows,
    tokens: Mutex<Option<(PathBuf, Arc<TokenCounts>)>>,
}

impl ReadFile {
    /// Whether this read answers `key`: the same file, unchanged, with the columns asked
    /// for (asked for by name, or left to the same suggestion).
    fn serves(&self, key: &FileKey) -> bool {
        let same_file =
            (&self.key.path, self.key.len, self.key.modified) == (&key.path, key.len, key.modified);
        let text = key.text == self.key.text || (key.text.is_some() && key.text == self.rows.text);
        let label = key.label_column == self.key.label_column
            || (key.label_column.is_some() && key.label_column == self.rows.label_column);
        same_file && text && label
    }
}

/// What a read depends on: the file (and its size and time, to notice edits) and the
/// columns asked for.
#[derive(PartialEq)]
struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    text: Option<TextSpec>,
    label_column: Option<String>,
}

impl FileKey {
    fn new(path: &Path, text: &Option<TextSpec>, label_column: &Option<String>) -> Self {
        let meta = std::fs::metadata(path).ok();
        Self {
            path: path.to_path_buf(),
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
            text: text.clone(),
            label_column: label_column.clone(),
        }
    }
}

impl DataState {
    /// A fresh cancel flag for a new inspection; the one before it is cancelled (a newer
    /// request supersedes it).
    fn start(&self) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        let old = std::mem::replace(&mut *lock(&self.cancel), flag.clone());
        old.store(true, Ordering::Relaxed);
        flag
    }

    /// The file read with `key`, from memory or read now; `None` when cancelled.
    fn read(&self, key: FileKey, cancel: &AtomicBool) -> AppResult<Option<Arc<ReadFile>>> {
        if let Some(file) = lock(&self.file).as_ref().filter(|f| f.serves(&key)) {
            return Ok(Some(file.clone()));
        }
        let Some(rows) = FileRows::read(
            &key.path,
            key.text.clone(),
            key.label_column.clone(),
            Some(cancel),
        )?
        else {
            return Ok(None);
        };
        let file = Arc::new(ReadFile {
            key,
            rows,
            tokens: Mutex::new(None),
        });
        *lock(&self.file) = Some(file.clone());
        Ok(Some(file))
    }
}

/// What the Check step measures beyond the file itself.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// The model training will use (hub id or a folder opened in the app): its
    /// tokenizer measures truncation, when it is on this machine.
    pub model: Option<String>,
    /// Tokens read per ticket (the training setting).
    pub max_length: Option<usize>,
    /// The validation split training will make (leakage across it is checked).
    pub split: Option<SplitPlan>,
}

/// Profile a file and, with the (given or suggested) columns, check its quality:
/// truncation for `checks.model`, leakage across `checks.split`. `None` when cancelled
/// (by [`cancel_inspection`] or a newer inspection).
#[tauri::command]
pub async fn inspect_data(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Option<Vec<String>>,
    label_column: Option<String>,
    label_map: Option<LabelMap>,
    checks: Option<Checks>,
) -> AppResult<Option<Inspection>> {
    state.check_granted(&path)?;
    let checks = checks.unwrap_or_default();
    let model = checks
        .model
        .as_ref()
        .map(|model| (model.clone(), model_folder(&state, model)));
    let cancel = state.data.start();
    let data = state.data.clone();
    blocking(move || {
        let text = text_spec(text);
        let key = FileKey::new(&path, &text, &label_column);
        let Some(file) = data.read(key, &cancel)? else {
            return Ok(None);
        };
        let max_length = checks.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        let mut unmeasured = None;
        let tokens = match model {
            Some((_, Ok(dir))) => match token_counts(&file, &dir, max_length, &cancel)? {
                Some(tokens) => Some((tokens, effective_max_length(&dir, max_length))),
                None => return Ok(None),
            },
            Some((model, Err(why))) => {
                unmeasured = Some(format!(
                    "truncation is measured with the model's tokenizer, and {model} {why}"
                ));
                None
            }
            None => None,
        };
        let options = InspectOptions {
            label_map: label_map.as_ref(),
            split: checks.split,
            ..InspectOptions::default()
        };
        let mut inspection = file
            .rows
            .inspect(&options, tokens.as_ref().map(|(t, m)| (t.as_ref(), *m)))?;
        if let (Some(reason), Some(report)) = (unmeasured, inspection.report.as_mut()) {
            for n in report
                .not_measured
                .iter_mut()
                .filter(|n| n.code == "truncation")
            {
                n.reason = reason.clone();
            }
        }
        Ok(Some(inspection))
    })
    .await
}

/// Stop the inspection in progress (it returns `None`).
#[tauri::command]
pub fn cancel_inspection(state: State<'_, AppState>) {
    lock(&state.data.cancel).store(true, Ordering::Relaxed);
}

/// The training setting's default max length.
const DEFAULT_MAX_LENGTH: usize = 128;

/// The folder of `model` when it is on this machine, or why not (a sentence ending).
/// Only hub ids (looked up in the cache, never downloaded) and folders the person
/// opened in the app are looked at.
fn model_folder(state: &AppState, model: &str) -> Result<PathBuf, String> {
    let path = Path::new(model);
    let hub_id = !path.is_absolute()
        && !model.contains(['\\', ':'])
        && !model.split('/').any(|p| p.is_empty() || p.starts_with('.'))
        && model.split('/').count() <= 2;
    if !hub_id && state.check_granted(path).is_err() {
        return Err("is not a hub id or a folder opened in Dialect".into());
    }
    match model_status(model) {
        Ok(status) => status.cached.ok_or_else(|| {
            "is not on this machine yet: it is measured once the model is downloaded".into()
        }),
        Err(e) => Err(format!("cannot be used: {e}")),
    }
}

/// The max length training will use with the model in `dir`: the setting, capped at
/// the model's position limit when its config names one.
fn effective_max_length(dir: &Path, max_length: usize) -> usize {
    std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| config.get("max_position_embeddings")?.as_u64())
        .map_or(max_length, |limit| max_length.min(limit as usize))
}

/// `file`'s token counts with the tokenizer in `dir`, from memory or measured now;
/// `None` when cancelled.
fn token_counts(
    file: &ReadFile,
    dir: &Path,
    max_length: usize,
    cancel: &AtomicBool,
) -> AppResult<Option<Arc<TokenCounts>>> {
    if let Some((_, tokens)) = lock(&file.tokens).as_ref().filter(|(d, _)| d == dir) {
        return Ok(Some(tokens.clone()));
    }
    let encoder = TextEncoder::load(dir, max_length.max(2))?;
    let Some(tokens) = file.rows.token_counts(&encoder, Some(cancel))? else {
        return Ok(None);
    };
    let tokens = Arc::new(tokens);
    *lock(&file.tokens) = Some((dir.to_path_buf(), tokens.clone()));
    Ok(Some(tokens))
}

/// One row's composed text.
#[derive(Serialize)]
pub struct RowText {
    pub line: usize,
    pub text: String,
}

/// The texts of the rows starting at `lines` (examples for a finding).
#[tauri::command]
pub async fn row_texts(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Vec<String>,
    lines: Vec<usize>,
) -> AppResult<Vec<RowText>> {
    state.check_granted(&path)?;
    blocking(move || {
        let spec = text_spec(Some(text)).ok_or_else(|| {
            AppError::from(dialect::EngineError::Config("no text column given".into()))
        })?;
        Ok(rows_at(&path, &spec, &lines)?
            .into_iter()
            .map(|(line, text)| RowText { line, text })
            .collect())
    })
    .await
}

/// Save a label map where the person chooses; the path written, or `None`.
#[tauri::command]
pub async fn save_label_map(map: LabelMap) -> AppResult<Option<PathBuf>> {
    let Some(path) = dialogs::save_file("Save the label mapping", "label-map.json").await else {
        return Ok(None);
    };
    blocking(move || {
        map.save(&path)?;
        Ok(Some(path))
    })
    .await
}

/// Load a label map the person chooses; `None` when cancelled.
#[tauri::command]
pub async fn load_label_map() -> AppResult<Option<LabelMap>> {
    let filters: &[(&str, &[&str])] = &[("Label map (JSON)", &["json"])];
    let Some(path) = dialogs::open_file("Load a label mapping", filters).await else {
        return Ok(None);
    };
    blocking(move || Ok(Some(LabelMap::load(&path)?))).await
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
        let key = || FileKey::new(&path, &None, &None);
        let first = data.read(key(), &AtomicBool::new(false)).unwrap().unwrap();
        // Another label map or card move: served from memory, even with a cancel flag set
        // (a read would stop at once and give nothing).
        let again = data.read(key(), &AtomicBool::new(true)).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // The suggested columns, now named: the same read.
        let named = FileKey::new(
            &path,
            &Some(TextSpec {
                columns: vec!["text".into()],
                separator: TEXT_SEPARATOR.into(),
            }),
            &Some("label".into()),
        );
        let named = data.read(named, &AtomicBool::new(true)).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &named));
        // Other columns, or an edited file: read again.
        let other = FileKey::new(&path, &None, &Some("text".into()));
        assert!(data.read(other, &AtomicBool::new(true)).unwrap().is_none());
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
