//! Facts about the app for its header.

use crate::state::AppState;
use serde::Serialize;
use std::path::PathBuf;
use tauri::State;

/// Version, where runs are kept, and whether the hub is off limits.
#[derive(Serialize)]
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
