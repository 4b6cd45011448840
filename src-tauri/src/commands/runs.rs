//! Runs: history, one run's record and events, two runs compared, export, delete.

use crate::dialogs;
use crate::error::{blocking, AppError, AppResult};
use crate::state::AppState;
use crate::sync::lock;
use dialect::export::onnx::{export_run_onnx as export_run_onnx_to, OnnxOptions};
use dialect::export::trainer_job::export_trainer_job as export_trainer_job_to;
use dialect::run_diff::{diff_runs as diff, diff_runs_on, RunDiff};
use dialect::runs::{RunRecord, RunStore};
use dialect::{DeviceChoice, TrainEvent};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tauri::State;

/// Every recorded run, newest first.
#[tauri::command]
pub async fn list_runs(state: State<'_, AppState>) -> AppResult<Vec<RunRecord>> {
    let store = state.store.clone();
    blocking(move || Ok(store.list()?)).await
}

/// Compare run `after` with run `before` ticket by ticket on their validation rows,
/// or on every labelled row of data file `on` (opened in the app) when given: the
/// tickets it fixed, broke or changed, and the confusion matrix's change.
#[tauri::command]
pub async fn diff_runs(
    state: State<'_, AppState>,
    before: String,
    after: String,
    on: Option<PathBuf>,
) -> AppResult<RunDiff> {
    if let Some(file) = &on {
        state.check_granted(file)?;
    }
    let store = state.store.clone();
    blocking(move || {
        Ok(match on {
            Some(file) => diff_runs_on(&store, &before, &after, &file, DeviceChoice::Auto)?,
            None => diff(&store, &before, &after, DeviceChoice::Auto)?,
        })
    })
    .await
}

/// One run: its record and its events.
#[derive(Serialize, ts_rs::TS)]
pub struct RunDetail {
    pub record: RunRecord,
    pub events: Vec<TrainEvent>,
}

/// Run `run_id`'s record and events.
#[tauri::command]
pub async fn get_run(state: State<'_, AppState>, run_id: String) -> AppResult<RunDetail> {
    let store = state.store.clone();
    blocking(move || {
        Ok(RunDetail {
            record: store.get(&run_id)?,
            events: store.events(&run_id)?,
        })
    })
    .await
}

/// Delete run `run_id` (not while it trains).
#[tauri::command]
pub async fn delete_run(state: State<'_, AppState>, run_id: String) -> AppResult<()> {
    if lock(&state.training)
        .as_ref()
        .is_some_and(|job| job.run_id() == run_id && job.is_running())
    {
        return Err(AppError::busy("this run is training: cancel it first"));
    }
    {
        let mut cached = lock(&state.predictor);
        if cached.as_ref().is_some_and(|(id, ..)| *id == run_id) {
            *cached = None;
        }
    }
    let store = state.store.clone();
    blocking(move || Ok(store.delete(&run_id)?)).await
}

/// Copy run `run_id`'s model into a folder the person picks; the new folder, or
/// `None` when cancelled.
#[tauri::command]
pub async fn export_run(state: State<'_, AppState>, run_id: String) -> AppResult<Option<PathBuf>> {
    export_to_picked_folder(
        state.store.clone(),
        run_id,
        "Export the model to…",
        |store, id| store.model_dir(id).map(|_| ()),
        |store, id, parent| store.export(id, parent),
    )
    .await
}

/// Write run `run_id`'s model as ONNX (`model.onnx` and `model.int8.onnx`, the
/// tokenizer and config beside them) into `dialect-<id>-onnx` in a folder the person
/// picks; the new folder, or `None` when cancelled.
#[tauri::command]
pub async fn export_run_onnx(
    state: State<'_, AppState>,
    run_id: String,
) -> AppResult<Option<PathBuf>> {
    export_to_picked_folder(
        state.store.clone(),
        run_id,
        "Export the model as ONNX to…",
        |store, id| store.model_dir(id).map(|_| ()),
        |store, id, parent| {
            export_run_onnx_to(store, id, parent, OnnxOptions { int8: true }).map(|e| e.folder)
        },
    )
    .await
}

/// Write run `run_id` as a transformers Trainer + accelerate job (train.py with the
/// run's recipe, rows and split; accelerate configs) into `dialect-<id>-trainer` in a
/// folder the person picks; the new folder, or `None` when cancelled.
#[tauri::command]
pub async fn export_trainer_job(
    state: State<'_, AppState>,
    run_id: String,
) -> AppResult<Option<PathBuf>> {
    export_to_picked_folder(
        state.store.clone(),
        run_id,
        "Export a Trainer job to…",
        |store, id| store.get(id).map(|_| ()),
        |store, id, parent| export_trainer_job_to(store, id, parent).map(|j| j.folder),
    )
    .await
}

/// Check that run `run_id` can be exported (before the dialog, so nothing is asked
/// in vain), ask for the folder (titled `title`), and export into it; the new folder,
/// or `None` when cancelled.
async fn export_to_picked_folder(
    store: RunStore,
    run_id: String,
    title: &str,
    check: impl FnOnce(&RunStore, &str) -> dialect::Result<()> + Send + 'static,
    export: impl FnOnce(&RunStore, &str, &Path) -> dialect::Result<PathBuf> + Send + 'static,
) -> AppResult<Option<PathBuf>> {
    let checked = store.clone();
    let id = run_id.clone();
    blocking(move || Ok(check(&checked, &id)?)).await?;
    let Some(parent) = dialogs::pick_folder(title, dialogs::SAVE_DIR_ENV).await else {
        return Ok(None);
    };
    blocking(move || Ok(Some(export(&store, &run_id, &parent)?))).await
}

/// Record the output folder of a Trainer job (`model/`, `dialect-import.json`) that
/// the person picks as a new finished run; its id, or `None` when cancelled.
#[tauri::command]
pub async fn import_run(state: State<'_, AppState>) -> AppResult<Option<String>> {
    let Some(folder) =
        dialogs::pick_folder("Import a Trainer job's output…", dialogs::IMPORT_DIR_ENV).await
    else {
        return Ok(None);
    };
    let store = state.store.clone();
    blocking(move || Ok(Some(store.import_trainer_output(&folder)?))).await
}
