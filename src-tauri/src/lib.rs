//! Dialect desktop app: a thin Tauri shell over the `dialect` engine. Commands are in
//! [`commands`]; training runs on its own thread ([`training`]); the UI lives in `ui/`.

pub mod commands;
pub mod dialogs;
pub mod error;
pub mod state;
pub mod training;

use state::{lock, AppState};
use std::path::PathBuf;
use tauri::{Manager, Runtime};

/// Overrides the folder runs are kept in (default: the app data dir's `runs/`).
pub const HOME_ENV: &str = "DIALECT_HOME";

/// `builder` with every command registered (the app's state is managed separately).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app::app_info,
        commands::data::pick_data_file,
        commands::data::sample_data,
        commands::data::inspect_data,
        commands::data::row_texts,
        commands::data::save_label_map,
        commands::data::load_label_map,
        commands::train::list_models,
        commands::train::check_model,
        commands::train::download_model,
        commands::train::list_devices,
        commands::train::start_training,
        commands::train::cancel_training,
        commands::train::attach_training,
        commands::predict::evaluate_run,
        commands::predict::predict,
        commands::predict::predict_file,
        commands::runs::list_runs,
        commands::runs::get_run,
        commands::runs::delete_run,
        commands::runs::export_run,
    ])
}

/// Where the bundled sample is: the resource folder, else (development builds) the
/// repository's `samples/`.
fn sample_path<R: Runtime>(app: &tauri::App<R>) -> PathBuf {
    const SAMPLE: &str = "samples/banking77.csv";
    app.path()
        .resource_dir()
        .map(|dir| dir.join(SAMPLE))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(SAMPLE)
        })
}

fn runs_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, tauri::Error> {
    match std::env::var_os(HOME_ENV) {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join("runs")),
        _ => Ok(app.path().app_data_dir()?.join("runs")),
    }
}

/// Start the app. Closing the window cancels a running training job cleanly: the run
/// is recorded as cancelled and its best model so far is kept.
pub fn run() {
    let result = with_commands(tauri::Builder::default())
        .setup(|app| {
            let state = AppState::new(runs_dir(app)?, sample_path(app));
            app.manage(state);
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Dropped files count as opened by the person (the UI then inspects them).
            tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
                let state = window.state::<AppState>();
                for path in paths {
                    state.grant(path);
                }
            }
            tauri::WindowEvent::CloseRequested { .. } => {
                let state = window.state::<AppState>();
                let mut training = lock(&state.training);
                if let Some(job) = training.as_mut() {
                    job.cancel_and_wait();
                }
            }
            _ => {}
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("dialect: the app could not start: {e}");
        std::process::exit(1);
    }
}
