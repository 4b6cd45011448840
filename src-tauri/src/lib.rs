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
        commands::app::ui_ready,
        commands::data::pick_data_file,
        commands::data::sample_data,
        commands::data::inspect_data,
        commands::data::row_texts,
        commands::data::cancel_inspection,
        commands::data::save_label_map,
        commands::data::load_label_map,
        commands::settings::train_limits,
        commands::train::list_models,
        commands::train::check_model,
        commands::train::download_model,
        commands::train::list_devices,
        commands::train::check_device,
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

/// Cancel a running training job and wait until its end is recorded (the best model
/// so far is kept).
fn stop_training<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(state) = app.try_state::<AppState>() {
        if let Some(job) = lock(&state.training).as_mut() {
            job.cancel_and_wait();
        }
    }
}

/// Window events the app acts on: dropped files count as opened by the person (the UI
/// then inspects them); closing the window stops training cleanly.
pub fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    match event {
        tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
            let state = window.state::<AppState>();
            for path in paths {
                state.grant(path);
            }
        }
        tauri::WindowEvent::CloseRequested { .. } | tauri::WindowEvent::Destroyed => {
            stop_training(window.app_handle());
        }
        _ => {}
    }
}

/// Start the app. Closing the window (or quitting) cancels a running training job
/// cleanly: the run is recorded as cancelled and its best model so far is kept.
pub fn run() {
    let app = with_commands(tauri::Builder::default())
        .setup(|app| {
            let state = AppState::new(runs_dir(app)?, sample_path(app));
            app.manage(state);
            // Ctrl-C or SIGTERM (logout, shutdown, a test driver ending its session)
            // stops training as cleanly as closing the window does.
            let handle = app.handle().clone();
            let _ = ctrlc::set_handler(move || {
                stop_training(&handle);
                std::process::exit(130);
            });
            Ok(())
        })
        .on_window_event(on_window_event)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::ExitRequested { .. } | tauri::RunEvent::Exit = event {
                stop_training(handle);
            }
        }),
        Err(e) => {
            eprintln!("dialect: the app could not start: {e}");
            std::process::exit(1);
        }
    }
}
