//! The analyst's own validation file, instead of a share of the training file: choose
//! it, and see what it holds, read as training will read it.

use super::data::DATA_FILTERS;
use super::train::{check_data, with_kept_corrections};
use crate::dialogs;
use crate::error::{blocking, AppResult};
use crate::state::AppState;
use dialect::dataset::validation::ValidationSummary;
use dialect::train::DataSpec;
use std::path::PathBuf;
use tauri::State;

/// Ask for a validation file (then readable like a data file the person opened);
/// `None` when cancelled.
#[tauri::command]
pub async fn pick_validation_file(state: State<'_, AppState>) -> AppResult<Option<PathBuf>> {
    let path =
        dialogs::open_validation_file("Choose a validation file of labelled tickets", DATA_FILTERS)
            .await;
    if let Some(path) = &path {
        state.grant(path);
    }
    Ok(path)
}

/// What the validation file of `data` holds, read as [`super::train::start_training`]
/// reads it (the data file's columns and label map, the corrections kept for each
/// file): its rows, classes and overlap with the training tickets. `None` when `data`
/// names no validation file; an error names the file, and the row and value for a
/// class training does not know.
#[tauri::command]
pub async fn check_validation_file(
    state: State<'_, AppState>,
    mut data: DataSpec,
) -> AppResult<Option<ValidationSummary>> {
    check_data(&state, &data)?;
    let store = state.store.clone();
    blocking(move || {
        with_kept_corrections(&store, &mut data)?;
        Ok(data.validation_summary()?)
    })
    .await
}
