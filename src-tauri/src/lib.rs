//! Dialect desktop app: a thin Tauri shell over the `dialect` engine. Commands are in
//! [`commands`]; training runs on its own thread ([`training`]); the UI lives in `ui/`.

pub mod commands;
pub mod dialogs;
pub mod error;
pub mod state;
pub mod training;

use dialect::runs::RunStore;
use state::{lock, AppState};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, RunEvent, Runtime};
use training::TrainingJob;

/// Overrides the folder runs are kept in (default: the store the CLI uses too,
/// [`RunStore::default_root`]).
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
        commands::train::pick_model_folder,
        commands::train::check_model,
        commands::train::download_model,
        commands::train::list_devices,
        commands::train::check_device,
        commands::train::start_training,
        commands::train::resume_training,
        commands::train::cancel_training,
        commands::train::attach_training,
        commands::predict::evaluate_run,
        commands::predict::predict,
        commands::predict::predictor_info,
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

/// The run store shared with the CLI, as an absolute path. Runs that earlier versions
/// kept in the app's own data folder are moved into it.
fn runs_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let root = RunStore::default_root();
    let overridden = std::env::var_os(HOME_ENV).is_some_and(|h| !h.is_empty());
    if let (false, Ok(data)) = (overridden, app.path().app_data_dir()) {
        if let Err(e) = RunStore::new(&root).adopt(&data.join("runs")) {
            eprintln!(
                "dialect: could not move earlier runs into {}: {e}",
                root.display()
            );
        }
    }
    Ok(std::path::absolute(root)?)
}

/// If a job is training: cancel it and call `then` once it has recorded its end (the
/// best model so far is kept), without blocking the caller. Returns whether one was
/// training.
fn stop_training<R: Runtime>(app: &AppHandle<R>, then: impl FnOnce() + Send + 'static) -> bool {
    app.try_state::<AppState>().is_some_and(|state| {
        lock(&state.training)
            .as_mut()
            .is_some_and(|job| job.cancel_then(then))
    })
}

/// Whether a training job is running.
fn training<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<AppState>().is_some_and(|state| {
        lock(&state.training)
            .as_ref()
            .is_some_and(TrainingJob::is_running)
    })
}

/// Window events the app acts on: dropped files count as opened by the person (the UI
/// then inspects them). Closing the window while a model trains cancels training and
/// closes the window once the run's end is recorded; the UI's thread never waits.
pub fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    match event {
        tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
            let state = window.state::<AppState>();
            for path in paths {
                state.grant(path);
            }
        }
        tauri::WindowEvent::CloseRequested { api, .. } => {
            let closing = window.clone();
            if stop_training(window.app_handle(), move || {
                let _ = closing.destroy();
            }) {
                api.prevent_close();
            }
        }
        tauri::WindowEvent::Destroyed => {
            stop_training(window.app_handle(), || {});
        }
        _ => {}
    }
}

/// App events the app acts on: an exit request while a model trains cancels training
/// and exits once the run's end is recorded, without blocking the event loop.
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    match event {
        RunEvent::ExitRequested { code, api, .. } => {
            let exiting = app.clone();
            if stop_training(app, move || exiting.exit(code.unwrap_or(0))) {
                api.prevent_exit();
            }
        }
        RunEvent::Exit => {
            stop_training(app, || {});
        }
        _ => {}
    }
}

/// Start the app. Closing the window (or quitting) cancels a running training job
/// cleanly: the run is recorded as cancelled and its best model so far is kept.
pub fn run() {
    let app = with_commands(tauri::Builder::default())
        .setup(|app| {
            let runs = runs_dir(app)?;
            // Hub ids that also name a folder under the working directory resolve to
            // that folder (the CLI's `--model my-folder`); the app's model folders come
            // from the folder dialog only, so it works inside its own run store.
            std::fs::create_dir_all(&runs)?;
            std::env::set_current_dir(&runs)?;
            let state = AppState::new(runs, sample_path(app));
            app.manage(state);
            // Ctrl-C or SIGTERM (logout, shutdown, a test driver ending its session)
            // stops training as cleanly as closing the window does. This handler runs
            // on a thread of its own, so it may wait.
            let handle = app.handle().clone();
            let _ = ctrlc::set_handler(move || {
                stop_training(&handle, || {});
                while training(&handle) {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                std::process::exit(130);
            });
            Ok(())
        })
        .on_window_event(on_window_event)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(on_run_event),
        Err(e) => {
            eprintln!("dialect: the app could not start: {e}");
            std::process::exit(1);
        }
    }
}
