//! "Serve this model" (Runs screen): a run's model as a local HTTP service on
//! 127.0.0.1 ([`crate::serving`]), one at a time.

use crate::error::{blocking, AppResult};
use crate::serving::ServiceInfo;
use crate::state::AppState;
use dialect::{DeviceChoice, Predictor};
use tauri::State;

/// Serve run `run_id`'s best model (its default precision) on 127.0.0.1:`port` (none:
/// a free port), replacing the service running. A run without a model leaves the
/// running service as it is.
#[tauri::command]
pub async fn serve_run(
    state: State<'_, AppState>,
    run_id: String,
    port: Option<u16>,
) -> AppResult<ServiceInfo> {
    let store = state.store.clone();
    let id = run_id.clone();
    let predictor = blocking(move || {
        Ok(Predictor::load_with(
            &store.model_dir(&id)?,
            DeviceChoice::Auto,
            None,
        )?)
    })
    .await?;
    state
        .service
        .replace(run_id, predictor, port.unwrap_or(0))
        .await
}

/// Stop the service once it has answered the requests in flight (nothing when none
/// runs).
#[tauri::command]
pub async fn stop_serving(state: State<'_, AppState>) -> AppResult<()> {
    state.service.stop().await
}

/// Where the service answers, or `None` when none runs.
#[tauri::command]
pub async fn serving(state: State<'_, AppState>) -> AppResult<Option<ServiceInfo>> {
    Ok(state.service.info().await)
}
