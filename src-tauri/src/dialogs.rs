//! Native file dialogs, opened from Rust (the webview has no file access of its own).
//! Builds with the `e2e-dialogs` feature (the end-to-end and command tests) let an
//! environment variable stand in for the person's answer; everything after the dialog
//! runs the same code. Other builds ignore these variables, so setting the app's
//! environment grants nothing.

use rfd::AsyncFileDialog;
use std::path::PathBuf;

/// Stands in for the answer of an open-file dialog (`e2e-dialogs` builds only).
pub const OPEN_FILE_ENV: &str = "DIALECT_OPEN_FILE";
/// Stands in for the answer of the validation file dialog (`e2e-dialogs` builds only).
pub const OPEN_VALIDATION_ENV: &str = "DIALECT_OPEN_VALIDATION";
/// Stands in for the answer of a save-file dialog (`e2e-dialogs` builds only).
pub const SAVE_FILE_ENV: &str = "DIALECT_SAVE_FILE";
/// Stands in for the answer of the export folder dialog (`e2e-dialogs` builds only).
pub const SAVE_DIR_ENV: &str = "DIALECT_SAVE_DIR";
/// Stands in for the answer of the model folder dialog (`e2e-dialogs` builds only).
pub const MODEL_DIR_ENV: &str = "DIALECT_MODEL_DIR";
/// Stands in for the answer of the Trainer-output import dialog (`e2e-dialogs` builds
/// only).
pub const IMPORT_DIR_ENV: &str = "DIALECT_IMPORT_DIR";

/// The answer set in `var`, standing in for the dialog.
#[cfg(feature = "e2e-dialogs")]
fn stand_in(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Without the `e2e-dialogs` feature every dialog is a real one.
#[cfg(not(feature = "e2e-dialogs"))]
fn stand_in(_var: &str) -> Option<PathBuf> {
    None
}

/// Ask for a file to open; `None` when cancelled.
pub async fn open_file(title: &str, filters: &[(&str, &[&str])]) -> Option<PathBuf> {
    pick_file(OPEN_FILE_ENV, title, filters).await
}

/// Ask for a validation file to open (its own stand-in, so a test can answer the data
/// file's dialog and this one differently); `None` when cancelled.
pub async fn open_validation_file(title: &str, filters: &[(&str, &[&str])]) -> Option<PathBuf> {
    pick_file(OPEN_VALIDATION_ENV, title, filters).await
}

/// Ask for a file to open, `stand_in_var` answering in tests; `None` when cancelled.
async fn pick_file(
    stand_in_var: &str,
    title: &str,
    filters: &[(&str, &[&str])],
) -> Option<PathBuf> {
    if let Some(path) = stand_in(stand_in_var) {
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
    if let Some(path) = stand_in(SAVE_FILE_ENV) {
        return Some(path);
    }
    AsyncFileDialog::new()
        .set_title(title)
        .set_file_name(name)
        .save_file()
        .await
        .map(|f| f.path().to_path_buf())
}

/// Ask for a folder; `stand_in_var` names the variable that answers it in tests.
/// `None` when cancelled.
pub async fn pick_folder(title: &str, stand_in_var: &str) -> Option<PathBuf> {
    if let Some(path) = stand_in(stand_in_var) {
        return Some(path);
    }
    AsyncFileDialog::new()
        .set_title(title)
        .pick_folder()
        .await
        .map(|f| f.path().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_answer_only_in_e2e_dialog_builds() {
        for var in [
            OPEN_FILE_ENV,
            OPEN_VALIDATION_ENV,
            SAVE_FILE_ENV,
            SAVE_DIR_ENV,
            MODEL_DIR_ENV,
            IMPORT_DIR_ENV,
        ] {
            std::env::set_var(var, "/tmp/granted-without-a-dialog");
            let answer = stand_in(var);
            std::env::remove_var(var);
            if cfg!(feature = "e2e-dialogs") {
                assert_eq!(answer, Some(PathBuf::from("/tmp/granted-without-a-dialog")));
            } else {
                assert_eq!(answer, None, "{var} must be ignored without e2e-dialogs");
            }
        }
    }
}
