//! Native file dialogs, opened from Rust (the webview has no file access of its own).
//! For automated tests an environment variable stands in for the person's answer;
//! everything after the dialog runs the same code.

use rfd::AsyncFileDialog;
use std::path::PathBuf;

/// Stands in for the answer of an open-file dialog.
pub const OPEN_FILE_ENV: &str = "DIALECT_OPEN_FILE";
/// Stands in for the answer of a save-file dialog.
pub const SAVE_FILE_ENV: &str = "DIALECT_SAVE_FILE";
/// Stands in for the answer of a pick-folder dialog.
pub const SAVE_DIR_ENV: &str = "DIALECT_SAVE_DIR";

fn preset(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Ask for a file to open; `None` when cancelled.
pub async fn open_file(title: &str, filters: &[(&str, &[&str])]) -> Option<PathBuf> {
    if let Some(path) = preset(OPEN_FILE_ENV) {
        return Some(path);
    }
    let mut dialog = AsyncFileDialog::new().set_title(title);
    for (name, extensions) in filters {
        dialog = dialog.add_filter(*name, extensions);
    }
    dialog.pick_file().await.map(|f| f.path().to_path_buf())
}

/// Ask where to save a file, suggesting `name`; `None` when cancelled.
pub async fn save_file(title: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = preset(SAVE_FILE_ENV) {
        return Some(path);
    }
    AsyncFileDialog::new()
        .set_title(title)
        .set_file_name(name)
        .save_file()
        .await
        .map(|f| f.path().to_path_buf())
}

/// Ask for a folder; `None` when cancelled.
pub async fn pick_folder(title: &str) -> Option<PathBuf> {
    if let Some(path) = preset(SAVE_DIR_ENV) {
        return Some(path);
    }
    AsyncFileDialog::new()
        .set_title(title)
        .pick_folder()
        .await
        .map(|f| f.path().to_path_buf())
}
