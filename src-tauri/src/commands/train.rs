//! Train screen: models (on disk or to download), devices, the estimate of a run's time
//! and memory before it starts, starting, cancelling and re-attaching to the training
//! job.

use crate::dialogs;
use crate::error::{blocking, AppError, AppResult};
use crate::state::AppState;
use crate::sync::lock;
use crate::training::{Attached, TrainingJob};
use dialect::dataset::corrections::Corrections;
use dialect::device::{available_devices, DeviceInfo};
use dialect::device_check::{check_device as self_test, DeviceCheck};
use dialect::model::resolve::{
    download_model as download, model_status, preset_status, DownloadEvent, ModelStatus,
};
use dialect::pii::PiiKind;
use dialect::runs::{PendingRun, RunRequest, RunStore};
use dialect::train::estimate::{estimate, EstimateReport, EstimateRequest, ESTIMATES_FILE};
use dialect::train::DataSpec;
use dialect::{DeviceChoice, EngineError, TrainEvent};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

/// The preset models and whether each is on disk.
#[tauri::command]
pub async fn list_models() -> AppResult<Vec<ModelStatus>> {
    blocking(|| Ok(preset_status())).await
}

/// Ask for a local model folder (Hugging Face layout) and let training use it: its
/// status (an error says what the folder lacks), or `None` when cancelled.
#[tauri::command]
pub async fn pick_model_folder(state: State<'_, AppState>) -> AppResult<Option<ModelStatus>> {
    let Some(folder) = dialogs::pick_folder("Choose a model folder", dialogs::MODEL_DIR_ENV).await
    else {
        return Ok(None);
    };
    let folder = state.grant_model_folder(&folder);
    let model = state.model_source(&folder.to_string_lossy())?;
    blocking(move || Ok(Some(model_status(&model)?))).await
}

/// Whether `model` (a folder chosen with [`pick_model_folder`], or a hub id) is usable
/// now or needs a download.
#[tauri::command]
pub async fn check_model(state: State<'_, AppState>, model: String) -> AppResult<ModelStatus> {
    let model = state.model_source(&model)?;
    blocking(move || Ok(model_status(&model)?)).await
}

/// Download hub model `model` into the Hugging Face cache, streaming progress (a chosen
/// folder is returned as it is).
#[tauri::command]
pub async fn download_model(
    state: State<'_, AppState>,
    model: String,
    on_progress: Channel<DownloadEvent>,
) -> AppResult<PathBuf> {
    let model = state.model_source(&model)?;
    blocking(move || {
        Ok(download(&model, &mut |event| {
            let _ = on_progress.send(event);
        })?)
    })
    .await
}

/// Compute devices and whether this build can use each here.
#[tauri::command]
pub async fn list_devices() -> AppResult<Vec<DeviceInfo>> {
    blocking(|| Ok(available_devices())).await
}

/// Self-test `choice` against the CPU with a small random model: f32, and bf16 where
/// the device supports it.
#[tauri::command]
pub async fn check_device(choice: DeviceChoice) -> AppResult<Vec<DeviceCheck>> {
    blocking(move || Ok(self_test(choice)?)).await
}

/// Read the data, record a new run and start training it on its own thread.
/// Returns the run id; progress arrives on `on_event`.
#[tauri::command]
pub async fn start_training(
    state: State<'_, AppState>,
    mut request: RunRequest,
    on_event: Channel<TrainEvent>,
) -> AppResult<String> {
    ensure_idle(&state)?;
    request.config.model = state.model_source(&request.config.model)?;
    check_data(&state, &request.data)?;
    let store = state.store.clone();
    let run = blocking(move || {
        with_kept_corrections(&store, &mut request.data)?;
        Ok(store.new_run(request)?)
    })
    .await?;
    install(&state, run, on_event)
}

/// How long a run of `request` would take and whether it fits in memory (and, with
/// `fitMinutes`, the largest preset or shortened one that fits in that time), from a
/// few training steps measured on this machine: kept beside the run store and reused
/// for the same model, device and precision unless `remeasure`. The data, model and
/// corrections are taken as [`start_training`] takes them; a hub model not yet
/// downloaded is refused (the estimate does not download). `None` when cancelled
/// ([`cancel_estimate`], a newer estimate, or a run starting).
#[tauri::command]
pub async fn estimate_training(
    state: State<'_, AppState>,
    mut request: EstimateRequest,
) -> AppResult<Option<EstimateReport>> {
    ensure_idle(&state)?;
    request.config.model = state.model_source(&request.config.model)?;
    check_data(&state, &request.data)?;
    let cancel = Arc::new(AtomicBool::new(false));
    if let Some(previous) = lock(&state.estimate).replace(cancel.clone()) {
        previous.store(true, Ordering::Relaxed);
    }
    let store = state.store.clone();
    blocking(move || {
        let model = &request.config.model;
        if model_status(model)?.cached.is_none() {
            return Err(EngineError::ModelNotFound {
                model: model.clone(),
                message: "not on this machine: download it first (an estimate measures the \
                          model here, it does not download it)"
                    .into(),
            }
            .into());
        }
        with_kept_corrections(&store, &mut request.data)?;
        let cache = store.root().with_file_name(ESTIMATES_FILE);
        Ok(estimate(&request, Some(&cache), &cancel)?)
    })
    .await
}

/// Stop the estimate in progress (it returns `None`).
#[tauri::command]
pub fn cancel_estimate(state: State<'_, AppState>) {
    stop_estimate(&state);
}

fn stop_estimate(state: &AppState) {
    if let Some(cancel) = lock(&state.estimate).take() {
        cancel.store(true, Ordering::Relaxed);
    }
}

/// Refuse data files the person did not open in the app.
pub(crate) fn check_data(state: &AppState, data: &DataSpec) -> AppResult<()> {
    state.check_granted(&data.path)?;
    if let Some(validation) = &data.validation {
        state.check_granted(validation)?;
    }
    Ok(())
}

/// The corrections the app keeps for the data file (and for the validation file, its
/// own) are the ones a run trains with.
pub(crate) fn with_kept_corrections(store: &RunStore, data: &mut DataSpec) -> AppResult<()> {
    let kept = Corrections::kept(&store.corrections_dir(), &data.path)?;
    data.corrections = (!kept.is_empty()).then_some(kept);
    if let Some(validation) = &data.validation {
        let kept = Corrections::kept(&store.corrections_dir(), validation)?;
        data.validation_corrections = (!kept.is_empty()).then_some(kept);
    }
    Ok(())
}

/// Train run `run_id` again as a new run with its own settings and data and the
/// corrections now kept for its data file, and with personal data of the kinds in
/// `scrub` replaced (`null`: as the run did); the new run names it as its parent.
/// Returns the new run's id; progress arrives on `on_event`.
#[tauri::command]
pub async fn retrain_run(
    state: State<'_, AppState>,
    run_id: String,
    scrub: Option<Vec<PiiKind>>,
    on_event: Channel<TrainEvent>,
) -> AppResult<String> {
    ensure_idle(&state)?;
    let store = state.store.clone();
    let run = blocking(move || {
        let path = store.get(&run_id)?.data.path;
        let kept = Corrections::kept(&store.corrections_dir(), &path)?;
        let mut request = store.retrain_request(&run_id, Some(kept))?;
        if let Some(validation) = &request.data.validation {
            let kept = Corrections::kept(&store.corrections_dir(), validation)?;
            request.data.validation_corrections = (!kept.is_empty()).then_some(kept);
        }
        if let Some(kinds) = scrub {
            request.data.text.scrub = kinds;
        }
        Ok(store.new_run(request)?)
    })
    .await?;
    install(&state, run, on_event)
}

/// Continue a cancelled, failed or interrupted run from its last completed epoch, on
/// the run's own data and settings (refused when the data changed since). Returns the
/// run id; progress arrives on `on_event`.
#[tauri::command]
pub async fn resume_training(
    state: State<'_, AppState>,
    run_id: String,
    on_event: Channel<TrainEvent>,
) -> AppResult<String> {
    ensure_idle(&state)?;
    let store = state.store.clone();
    let run = blocking(move || Ok(store.resume_run(&run_id)?)).await?;
    install(&state, run, on_event)
}

const BUSY: &str = "a model is already training: wait for it or cancel it first";

/// Refuse while a job is training.
fn ensure_idle(state: &AppState) -> AppResult<()> {
    if lock(&state.training)
        .as_ref()
        .is_some_and(TrainingJob::is_running)
    {
        return Err(AppError::busy(BUSY));
    }
    Ok(())
}

/// Start `run` as the app's one training job, unless another started meanwhile (the
/// recorded run then stays unstarted and reads as interrupted); returns its run id.
fn install(state: &AppState, run: PendingRun, on_event: Channel<TrainEvent>) -> AppResult<String> {
    let mut slot = lock(&state.training);
    if slot.as_ref().is_some_and(TrainingJob::is_running) {
        return Err(AppError::busy(BUSY));
    }
    // An estimate measuring now would compete with the run for the device.
    stop_estimate(state);
    let job = TrainingJob::start(run, on_event)?;
    let id = job.run_id().to_string();
    *slot = Some(job);
    Ok(id)
}

/// Stop the running job after its current step; the best model so far is kept.
#[tauri::command]
pub fn cancel_training(state: State<'_, AppState>) -> AppResult<()> {
    match lock(&state.training).as_ref() {
        Some(job) if job.is_running() => {
            job.cancel();
            Ok(())
        }
        _ => Err(AppError::not_found("no model is training")),
    }
}

/// Re-attach to the current (or last) job: its events so far, then live ones on
/// `on_event`. `None` when nothing was trained in this session.
#[tauri::command]
pub fn attach_training(
    state: State<'_, AppState>,
    on_event: Channel<TrainEvent>,
) -> Option<Attached> {
    lock(&state.training)
        .as_ref()
        .map(|job| job.attach(on_event))
}
