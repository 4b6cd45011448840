//! The bounds of the training settings, from the engine, for the Train form's inputs.

use dialect::train::{Limits, LIMITS};

/// The lowest and highest value of every numeric training setting.
#[tauri::command]
pub fn train_limits() -> Limits {
    LIMITS
}
