//! The training settings, from the engine: defaults, bounds, presets, names and help,
//! for the Train form.

use dialect::settings::{catalogue, Catalogue};

/// Everything the settings form shows: defaults, bounds, presets, each setting's label
/// and help, and the suggested models.
#[tauri::command]
pub fn training_settings() -> Catalogue {
    catalogue()
}
