//! Facts about the app for its header, and its startup signal.

use crate::state::AppState;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tauri::State;

/// Version, where runs are kept, and whether the hub is off limits.
#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub runs_dir: PathBuf,
    /// `HF_HUB_OFFLINE` is set: only models on disk can be used.
    pub offline: bool,
}

/// The app's version, run folder and offline mode.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        runs_dir: state.store.root().to_path_buf(),
        offline: dialect::model::resolve::offline(),
    }
}

/// The UI calls this once its first frame is on screen. The app logs that moment
/// once, as Unix time, on stderr (`bench/app.sh` reads it to time the cold start from
/// launch to first paint) and returns it in milliseconds.
#[tauri::command]
pub fn ui_ready() -> u128 {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    if !LOGGED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "dialect-app: first frame on screen at {:.3}",
            now.as_secs_f64()
        );
    }
    now.as_millis()
}
