//! Tauri build step. The app manifest declares our own commands, so each needs an
//! explicit permission in `capabilities/` before the webview may call it.

/// Every command the UI may invoke (see COMMANDS.md).
const COMMANDS: &[&str] = &[
    "app_info",
    "ui_ready",
    "pick_data_file",
    "sample_data",
    "inspect_data",
    "row_texts",
    "cancel_inspection",
    "save_label_map",
    "load_label_map",
    "train_limits",
    "list_models",
    "pick_model_folder",
    "check_model",
    "download_model",
    "list_devices",
    "check_device",
    "start_training",
    "resume_training",
    "cancel_training",
    "attach_training",
    "evaluate_run",
    "predict",
    "predict_file",
    "predictor_info",
    "list_runs",
    "get_run",
    "delete_run",
    "export_run",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
