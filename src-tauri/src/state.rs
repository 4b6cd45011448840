//! What the app keeps between commands: the run store, the bundled sample, the one
//! training job, and the model loaded for the Try box.

use crate::training::TrainingJob;
use dialect::runs::RunStore;
use dialect::Predictor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Shared app state (managed by Tauri).
pub struct AppState {
    pub store: RunStore,
    /// The bundled sample data file.
    pub sample: PathBuf,
    pub training: Mutex<Option<TrainingJob>>,
    /// The last model used for prediction, by run id (loading takes a moment).
    pub predictor: Mutex<Option<(String, Arc<Predictor>)>>,
}

impl AppState {
    /// State over the run store at `runs_dir` with the sample at `sample`.
    pub fn new(runs_dir: PathBuf, sample: PathBuf) -> Self {
        Self {
            store: RunStore::new(runs_dir),
            sample,
            training: Mutex::new(None),
            predictor: Mutex::new(None),
        }
    }
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
