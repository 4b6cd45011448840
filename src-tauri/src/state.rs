//! What the app keeps between commands: the run store, the bundled sample, the one
//! training job, and the model loaded for the Try box.

use crate::error::{AppError, AppResult};
use crate::file_cache::DataState;
use crate::serving::ServiceSlot;
use crate::sync::lock;
use crate::training::TrainingJob;
use dialect::model::resolve::is_hub_id;
use dialect::runs::RunStore;
use dialect::{PredictionPrecision, Predictor};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// A loaded predictor: its run id, the precision asked for (`None`: the model's
/// default) and the predictor.
pub type CachedPredictor = (String, Option<PredictionPrecision>, Arc<Predictor>);

/// Shared app state (managed by Tauri).
pub struct AppState {
    pub store: RunStore,
    /// The bundled sample data file.
    pub sample: PathBuf,
    pub training: Mutex<Option<TrainingJob>>,
    /// The last model used for prediction (loading takes a moment).
    pub predictor: Mutex<Option<CachedPredictor>>,
    /// The data file last inspected, and the inspection's cancel flag.
    pub data: DataState,
    /// The cancel flag of the suspect-label search in progress.
    pub suspects: Mutex<Option<Arc<AtomicBool>>>,
    /// The cancel flag of the training estimate in progress.
    pub estimate: Mutex<Option<Arc<AtomicBool>>>,
    /// The prediction service "Serve this model" started, if any.
    pub service: ServiceSlot,
    /// Files the person opened through the app (dialog, drop, sample): the only data
    /// files commands will read for the webview.
    granted: Mutex<BTreeSet<PathBuf>>,
    /// Model folders the person chose in the folder dialog: the only local models
    /// commands will open for the webview.
    model_folders: Mutex<BTreeSet<PathBuf>>,
}

impl AppState {
    /// State over the run store at `runs_dir` with the sample at `sample`.
    pub fn new(runs_dir: PathBuf, sample: PathBuf) -> Self {
        Self {
            store: RunStore::new(runs_dir),
            sample,
            training: Mutex::new(None),
            predictor: Mutex::new(None),
            data: Default::default(),
            suspects: Mutex::new(None),
            estimate: Mutex::new(None),
            service: ServiceSlot::default(),
            granted: Mutex::new(BTreeSet::new()),
            model_folders: Mutex::new(BTreeSet::new()),
        }
    }

    /// Let the webview use `path` (the person chose it).
    pub fn grant(&self, path: &Path) {
        lock(&self.granted).insert(canonical(path));
    }

    /// Refuse files the person did not open through the app, so the webview cannot
    /// read arbitrary files.
    pub fn check_granted(&self, path: &Path) -> AppResult<()> {
        if lock(&self.granted).contains(&canonical(path)) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "{} was not opened in Dialect: choose it with \"Choose file…\" or drop it on the window",
                path.display()
            )))
        }
    }
}

impl AppState {
    /// Let the webview use the model folder `path` (the person chose it); returns the
    /// folder as it is kept (links and `..` resolved).
    pub fn grant_model_folder(&self, path: &Path) -> PathBuf {
        let folder = canonical(path);
        lock(&self.model_folders).insert(folder.clone());
        folder
    }

    /// The model the webview names with `model`, as the engine should get it: a folder
    /// the person chose with "Choose folder…" (its full path), or a hub id (`name` or
    /// `org/name`). Any other path is refused, so the webview cannot probe or load
    /// folders the person did not choose.
    pub fn model_source(&self, model: &str) -> AppResult<String> {
        let folder = canonical(Path::new(model));
        if lock(&self.model_folders).contains(&folder) {
            return folder.to_str().map(str::to_string).ok_or_else(|| {
                AppError::forbidden(format!(
                    "the path of {} is not valid Unicode: move or rename the folder",
                    folder.display()
                ))
            });
        }
        if is_hub_id(model) {
            return Ok(model.to_string());
        }
        Err(AppError::forbidden(format!(
            "'{model}' is neither a hub id like 'org/model-name' nor a folder chosen in \
             Dialect: choose a local model folder with \"Choose folder…\""
        )))
    }
}

/// The path with links and `..` resolved (as given when it does not exist).
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
