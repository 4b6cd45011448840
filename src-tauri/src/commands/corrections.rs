//! Corrections to single tickets' labels, kept per data file beside the run store:
//! set and undo them, bring them in from a file or save them to one, and export the
//! corrected data.

use crate::dialogs;
use crate::error::{blocking, AppResult};
use crate::state::AppState;
use dialect::dataset::corrections::{write_corrected, CorrectedExport, Correction, Corrections};
use dialect::dataset::{Example, LabelMap};
use dialect::TextSpec;
use std::path::PathBuf;
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
