//! Review and Try screens: a run's validation review, live predictions, and batch
//! prediction of a file.

use crate::dialogs;
use crate::error::{blocking, AppResult};
use crate::state::AppState;
use crate::sync::lock;
use dialect::explain::Explanation;
use dialect::predict::{check_trained_columns, keep_threshold};
use dialect::review::{self, Review};
use dialect::routing::RoutingThreshold;
use dialect::{DeviceChoice, Int8Check, Prediction, PredictionPrecision, Predictor};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

/// Review run `run_id`: its best model on its validation rows, metrics and every row.
#[tauri::command]
pub async fn review_run(state: State<'_, AppState>, run_id: String) -> AppResult<Review> {
    let store = state.store.clone();
    blocking(move || Ok(review::review_run(&store, &run_id, DeviceChoice::Auto)?)).await
}

/// The predictor of `run_id` in `precision` (`None`: the model's default), loaded once
/// and kept for the next call.
async fn predictor(
    state: &AppState,
    run_id: &str,
    precision: Option<PredictionPrecision>,
) -> AppResult<Arc<Predictor>> {
    if let Some((id, asked, p)) = lock(&state.predictor).as_ref() {
        if id == run_id && *asked == precision {
            return Ok(p.clone());
        }
    }
    let store = state.store.clone();
    let id = run_id.to_string();
    let loaded = blocking(move || {
        let dir = store.model_dir(&id)?;
        Ok(Arc::new(Predictor::load_with(
            &dir,
            DeviceChoice::Auto,
            precision,
        )?))
    })
    .await?;
    *lock(&state.predictor) = Some((run_id.to_string(), precision, loaded.clone()));
    Ok(loaded)
}

/// How the Try box computes with a run's model.
#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PredictorInfo {
    pub precision: PredictionPrecision,
    /// Whether the model runs on the CPU (int8 is a choice there only).
    pub cpu: bool,
    /// How int8 compared with f32 on labelled data, once checked.
    pub int8: Option<Int8Check>,
    /// Whether that check passed (int8 lost at most half a point of accuracy), so
    /// int8 is the default on the CPU.
    pub int8_passed: bool,
    /// The routing threshold the model keeps: tickets below it go to a person.
    pub threshold: Option<f64>,
    /// Whether the model predicts label sets (multi-label): then routing, calibration,
    /// explanations and the int8 check do not apply.
    pub multi_label: bool,
}

/// Load run `run_id`'s model in `precision` (`None`: its default) for the Try box,
/// and say how it computes.
#[tauri::command]
pub async fn predictor_info(
    state: State<'_, AppState>,
    run_id: String,
    precision: Option<PredictionPrecision>,
) -> AppResult<PredictorInfo> {
    let p = predictor(&state, &run_id, precision).await?;
    Ok(PredictorInfo {
        precision: p.precision(),
        cpu: p.on_cpu(),
        int8: p.int8_check().cloned(),
        int8_passed: p.int8_check().is_some_and(Int8Check::passed),
        threshold: p.threshold(),
        multi_label: p.is_multi_label(),
    })
}

/// Keep `routing` in run `run_id`'s model card (`None` clears it), so its predictions
/// are routed with it from now on, the Try box's included. Refused for a multi-label
/// model (each label has its own threshold).
#[tauri::command]
pub async fn set_run_threshold(
    state: State<'_, AppState>,
    run_id: String,
    routing: Option<RoutingThreshold>,
) -> AppResult<()> {
    let store = state.store.clone();
    let id = run_id.clone();
    blocking(move || Ok(keep_threshold(&store.model_dir(&id)?, routing.as_ref())?)).await?;
    // The loaded model routes with the threshold it was loaded with: load it again.
    let mut cached = lock(&state.predictor);
    if cached.as_ref().is_some_and(|(id, _, _)| *id == run_id) {
        *cached = None;
    }
    Ok(())
}

/// Classify `texts` with run `run_id`'s best model in `precision` (`None`: its
/// default).
#[tauri::command]
pub async fn predict(
    state: State<'_, AppState>,
    run_id: String,
    texts: Vec<String>,
    precision: Option<PredictionPrecision>,
) -> AppResult<Vec<Prediction>> {
    let p = predictor(&state, &run_id, precision).await?;
    blocking(move || Ok(p.predict(&texts)?)).await
}

/// Why run `run_id`'s model (in `precision`, `None`: its default) gives `text` its
/// class: every word's effect on every class, measured by deleting it.
#[tauri::command]
pub async fn explain(
    state: State<'_, AppState>,
    run_id: String,
    text: String,
    precision: Option<PredictionPrecision>,
) -> AppResult<Explanation> {
    let p = predictor(&state, &run_id, precision).await?;
    blocking(move || Ok(p.explain(&text)?)).await
}

/// Rows done so far in a file prediction.
#[derive(Clone, Serialize, ts_rs::TS)]
pub struct FileProgress {
    pub done: usize,
    pub total: usize,
}

/// Where a file prediction was written.
#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FileResult {
    pub rows: usize,
    pub output: PathBuf,
    /// Whether each row got a label set (`predicted_labels`) instead of one class.
    pub multi_label: bool,
    /// Probability columns written per row (one per class or label).
    pub probabilities: usize,
}

/// Ask for a file of tickets and where to save the predictions, then classify every
/// row in `precision` (`None`: the model's default), composing each text from the columns run `run_id` was trained on (a file
/// without them is refused, naming them). `None` when a dialog was cancelled.
#[tauri::command]
pub async fn predict_file(
    state: State<'_, AppState>,
    run_id: String,
    precision: Option<PredictionPrecision>,
    on_progress: Channel<FileProgress>,
) -> AppResult<Option<FileResult>> {
    let store = state.store.clone();
    let id = run_id.clone();
    let spec = blocking(move || Ok(store.get(&id)?.data.text)).await?;
    let filters: &[(&str, &[&str])] = &[("Tickets (CSV, TSV, JSONL)", &["csv", "tsv", "jsonl"])];
    let Some(input) = dialogs::open_file("Choose tickets to classify", filters).await else {
        return Ok(None);
    };
    // Refuse a file without the model's columns before asking where to save.
    let (checked, trained) = (input.clone(), spec.clone());
    blocking(move || Ok(check_trained_columns(&checked, &trained)?)).await?;
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tickets".into());
    let Some(output) =
        dialogs::save_file("Save predictions as", &format!("{stem}-predictions.csv")).await
    else {
        return Ok(None);
    };
    let p = predictor(&state, &run_id, precision).await?;
    blocking(move || {
        let rows = p.predict_file_with_progress(&input, &spec, &output, &mut |done, total| {
            let _ = on_progress.send(FileProgress { done, total });
        })?;
        Ok(Some(FileResult {
            rows,
            output,
            multi_label: p.is_multi_label(),
            probabilities: p.labels().len(),
        }))
    })
    .await
}
