//! Corrections to single tickets' labels, kept per data file beside the run store:
//! set and undo them, bring them in from a file or save them to one, export the
//! corrected data; and find the tickets whose label is probably wrong.

use crate::dialogs;
use crate::error::{blocking, AppResult};
use crate::state::AppState;
use crate::sync::lock;
use dialect::dataset::corrections::{write_corrected, CorrectedExport, Correction, Corrections};
use dialect::dataset::{Example, LabelMap};
use dialect::settings::SplitPlan;
use dialect::train::suspects::{
    find_suspects as find, SuspectProgress, SuspectReport, SuspectRequest,
};
use dialect::train::DataSpec;
use dialect::{TextSpec, TrainConfig};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

const CORRECTIONS_FILTERS: &[(&str, &[&str])] = &[("Corrections (JSON)", &["json"])];

/// The corrections kept for data file `path` (none yet: empty).
#[tauri::command]
pub async fn corrections_for(state: State<'_, AppState>, path: PathBuf) -> AppResult<Corrections> {
    let shelf = state.store.corrections_dir();
    blocking(move || Ok(Corrections::kept(&shelf, &path)?)).await
}

/// Give the ticket of `path` starting on `line` with text `text` and class `given`
/// the class `label`, or drop it (`null`); a correction back to `given` removes it.
/// Returns the file's corrections.
#[tauri::command]
pub async fn correct_ticket(
    state: State<'_, AppState>,
    path: PathBuf,
    line: usize,
    text: String,
    given: String,
    label: Option<String>,
) -> AppResult<Corrections> {
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let mut kept = Corrections::kept(&shelf, &path)?;
        let ticket = Example {
            text,
            label: given,
            line,
            labels: None,
        };
        kept.set(Correction::of(&ticket, label));
        kept.keep(&shelf, &path)?;
        Ok(kept)
    })
    .await
}

/// Remove the correction of the ticket on `line` with text hash `hash`. Returns the
/// file's corrections.
#[tauri::command]
pub async fn undo_correction(
    state: State<'_, AppState>,
    path: PathBuf,
    line: usize,
    hash: String,
) -> AppResult<Corrections> {
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let mut kept = Corrections::kept(&shelf, &path)?;
        kept.undo(line, &hash);
        kept.keep(&shelf, &path)?;
        Ok(kept)
    })
    .await
}

/// Replace the corrections kept for `path` with ones loaded from a file the person
/// picks; `None` when they cancel.
#[tauri::command]
pub async fn load_corrections(
    state: State<'_, AppState>,
    path: PathBuf,
) -> AppResult<Option<Corrections>> {
    let Some(file) = dialogs::open_file("Load corrections", CORRECTIONS_FILTERS).await else {
        return Ok(None);
    };
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let loaded = Corrections::load(&file)?;
        loaded.keep(&shelf, &path)?;
        Ok(Some(loaded))
    })
    .await
}

/// Save the corrections kept for `path` to a file the person picks; `None` when they
/// cancel.
#[tauri::command]
pub async fn save_corrections(
    state: State<'_, AppState>,
    path: PathBuf,
) -> AppResult<Option<PathBuf>> {
    let Some(file) = dialogs::save_file("Save the corrections", "corrections.json").await else {
        return Ok(None);
    };
    let shelf = state.store.corrections_dir();
    blocking(move || {
        Corrections::kept(&shelf, &path)?.save(&file)?;
        Ok(Some(file))
    })
    .await
}

/// Write data file `path` as a CSV the person picks: every column, the label column
/// after the label map and the kept corrections, dropped tickets left out. `None`
/// when they cancel.
#[tauri::command]
pub async fn export_corrected(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Vec<String>,
    label_column: String,
    label_map: Option<LabelMap>,
) -> AppResult<Option<(PathBuf, CorrectedExport)>> {
    state.check_granted(&path)?;
    let Some(out) = dialogs::save_file("Export the corrected data", "corrected.csv").await else {
        return Ok(None);
    };
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let kept = Corrections::kept(&shelf, &path)?;
        let export = write_corrected(
            &path,
            &TextSpec::columns(text),
            &label_column,
            label_map.as_ref(),
            &kept,
            &out,
        )?;
        Ok(Some((out, export)))
    })
    .await
}

/// Whose tickets to look for suspect labels in.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SuspectSource {
    /// A data file opened in the app, read with these columns and label map, encoded
    /// by `model` (a hub id or a folder chosen in the app) at `max_length`.
    File {
        path: PathBuf,
        text: Vec<String>,
        label_column: String,
        label_map: Option<LabelMap>,
        model: String,
        max_length: Option<usize>,
    },
    /// A run's data file, columns, label map and model.
    Run { run_id: String },
}

/// Rank the tickets whose label is most likely wrong (the kept corrections applied
/// first): frozen encoder, cross-validated linear head, confident learning. Progress
/// arrives on `on_progress`; `None` when cancelled with [`cancel_suspects`].
#[tauri::command]
pub async fn find_suspects(
    state: State<'_, AppState>,
    source: SuspectSource,
    on_progress: Channel<SuspectProgress>,
) -> AppResult<Option<SuspectReport>> {
    let (spec, config) = match source {
        SuspectSource::File {
            path,
            text,
            label_column,
            label_map,
            model,
            max_length,
        } => {
            state.check_granted(&path)?;
            let mut config = TrainConfig {
                model: state.model_source(&model)?,
                ..TrainConfig::default()
            };
            if let Some(max_length) = max_length {
                config.max_length = max_length;
            }
            let spec = DataSpec {
                validation_corrections: None,
                drop_overlap: false,
                path,
                text: TextSpec::columns(text),
                label_column,
                label_form: dialect::dataset::LabelForm::Single,
                label_map,
                validation: None,
                split: SplitPlan::default(),
                corrections: None,
            };
            (spec, config)
        }
        SuspectSource::Run { run_id } => {
            let store = state.store.clone();
            let record = blocking(move || Ok(store.get(&run_id)?)).await?;
            (record.data, record.config)
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    if let Some(previous) = lock(&state.suspects).replace(cancel.clone()) {
        previous.store(true, Ordering::Relaxed);
    }
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let spec = DataSpec {
            corrections: Some(Corrections::kept(&shelf, &spec.path)?),
            ..spec
        };
        let (data, _) = spec.read_corrected()?;
        let request = SuspectRequest::from_config(&config);
        let mut progress = |p: SuspectProgress| {
            let _ = on_progress.send(p);
        };
        Ok(find(
            &request,
            &data.examples,
            &data.labels,
            &mut progress,
            &cancel,
        )?)
    })
    .await
}

/// Stop the suspect search in progress (it returns `None`).
#[tauri::command]
pub fn cancel_suspects(state: State<'_, AppState>) {
    if let Some(cancel) = lock(&state.suspects).take() {
        cancel.store(true, Ordering::Relaxed);
    }
}
