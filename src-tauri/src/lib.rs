//! Dialect desktop app: a thin Tauri shell over the `dialect` engine. Commands are in
//! [`commands`]; training runs on its own thread ([`training`]); the UI lives in `ui/`.

pub mod commands;
pub mod dialogs;
pub mod error;
pub mod file_cache;
pub mod serving;
pub mod state;
pub mod sync;
pub mod training;

use dialect::runs::RunStore;
use state::AppState;
use std::path::PathBuf;
use sync::lock;
use tauri::{AppHandle, Manager, RunEvent, Runtime};
use training::TrainingJob;

/// Overrides the folder runs are kept in (default: the store the CLI uses too,
/// [`RunStore::default_root`]).
pub const HOME_ENV: &str = "DIALECT_HOME";

include!(concat!(env!("OUT_DIR"), "/commands.rs"));

/// `builder` with every command in [`COMMANDS`] registered (the app's state is managed
/// separately).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(include!(concat!(env!("OUT_DIR"), "/handler.rs")))
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

/// The run store shared with the CLI ([`RunStore::resolve`]). Runs that earlier
/// versions kept in the app's own data folder are moved into it.
fn run_store<R: Runtime>(app: &tauri::App<R>) -> Result<RunStore, Box<dyn std::error::Error>> {
    let store = RunStore::resolve(None)?;
    let overridden = std::env::var_os(HOME_ENV).is_some_and(|h| !h.is_empty());
    if let (false, Ok(data)) = (overridden, app.path().app_data_dir()) {
        if let Err(e) = store.adopt(&data.join("runs")) {
            eprintln!(
                "dialect: could not move earlier runs into {}: {e}",
                store.root().display()
            );
        }
    }
    Ok(store)
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
/// and exits once the run's end is recorded, without blocking the event loop. On exit
/// the prediction service, if one runs, stops.
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
            if let Some(state) = app.try_state::<AppState>() {
                state.service.stop_on_exit();
            }
        }
        _ => {}
    }
}

/// Start the app. Closing the window (or quitting) cancels a running training job
/// cleanly: the run is recorded as cancelled and its best model so far is kept.
pub fn run() {
    let app = with_commands(tauri::Builder::default())
        .setup(|app| {
            let runs = run_store(app)?.root().to_path_buf();
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
