//! The engine's one error type. Each error has a stable [`code`](EngineError::code)
//! and names the [`settings`](EngineError::settings) that can fix it; messages speak
//! of settings by their labels, and each front end shows its own handle on them (the
//! CLI a flag, the app a control).

use crate::setting::Setting;
use serde::Serialize;
use std::path::PathBuf;

/// The stable kind of an [`EngineError`], for programs (the app's error kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    Io,
    Data,
    /// The data check found blocking problems ([`Setting::Force`] trains anyway).
    Blocked,
    DataChanged,
    /// Another process is training the run.
    Busy,
    Model,
    ModelNotFound,
    Config,
    Device,
    Diverged,
    OutOfMemory,
    Tokenizer,
    Internal,
}

/// Everything that can go wrong in the engine. `is_user_error` tells callers whether
/// the person can fix it (bad file, bad option) or it is an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A data file is malformed or does not fit the request.
    #[error("{path}: {message}")]
    Data {
        path: PathBuf,
        message: String,
        /// Settings that can fix it (e.g. the column to read).
        settings: Vec<Setting>,
    },
    /// The data check found blocking problems (training anyway is a setting).
    #[error("{path}: {message}")]
    Blocked { path: PathBuf, message: String },
    /// A model folder or checkpoint is unusable.
    #[error("model {model}: {message}")]
    Model { model: String, message: String },
    /// A model could not be found locally or on the hub.
    #[error("model {model} not found: {message}")]
    ModelNotFound { model: String, message: String },
    /// A run's data changed since it trained, so its validation rows cannot be re-read.
    #[error("{path}: {message}")]
    DataChanged { path: PathBuf, message: String },
    /// Another live process is training this run.
    #[error("run {id} is being trained by another Dialect process{}: cancel it there or wait until it ends", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    RunInUse { id: String, pid: Option<u32> },
    /// A requested setting is invalid.
    #[error("invalid setting: {0}")]
    Config(String),
    /// One setting is out of its bounds or unusable.
    #[error("invalid setting: {message}")]
    Setting { setting: Setting, message: String },
    /// The requested compute device is not available.
    #[error("device: {0}")]
    Device(String),
    /// Training diverged (NaN or infinite loss).
    #[error("training diverged at step {step}: loss is {loss}. Try a lower learning rate (e.g. 1e-5) or a smaller batch size.")]
    Diverged { step: usize, loss: f32 },
    /// The device ran out of memory.
    #[error("out of memory on {device}: try a smaller batch size or max length. ({message})")]
    OutOfMemory { device: String, message: String },
    /// Tokenizer failure.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A failure inside Dialect (a panic in training, a thread that cannot start).
    #[error("internal error: {0}")]
    Internal(String),
    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl EngineError {
    /// Whether the person using the tool can fix this by changing input or settings.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            EngineError::Tensor(_) | EngineError::Json(_) | EngineError::Internal(_)
        )
    }

    /// The stable kind of this error, for programs (the app's error kinds).
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Io { .. } => ErrorCode::Io,
            EngineError::Data { .. } => ErrorCode::Data,
            EngineError::Blocked { .. } => ErrorCode::Blocked,
            EngineError::DataChanged { .. } => ErrorCode::DataChanged,
            EngineError::RunInUse { .. } => ErrorCode::Busy,
            EngineError::Model { .. } => ErrorCode::Model,
            EngineError::ModelNotFound { .. } => ErrorCode::ModelNotFound,
            EngineError::Config(_) | EngineError::Setting { .. } => ErrorCode::Config,
            EngineError::Device(_) => ErrorCode::Device,
            EngineError::Diverged { .. } => ErrorCode::Diverged,
            EngineError::OutOfMemory { .. } => ErrorCode::OutOfMemory,
            EngineError::Tokenizer(_) => ErrorCode::Tokenizer,
            EngineError::Tensor(_) | EngineError::Json(_) | EngineError::Internal(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// The settings that can fix this error, most likely first.
    pub fn settings(&self) -> Vec<Setting> {
        match self {
            EngineError::Data { settings, .. } => settings.clone(),
            EngineError::Blocked { .. } => vec![Setting::Force],
            EngineError::Setting { setting, .. } => vec![*setting],
            EngineError::Diverged { .. } => vec![Setting::LearningRate, Setting::BatchSize],
            EngineError::OutOfMemory { .. } => vec![Setting::BatchSize, Setting::MaxLength],
            _ => Vec::new(),
        }
    }

    /// Build a `Setting` error.
    pub fn setting(setting: Setting, message: impl Into<String>) -> Self {
        EngineError::Setting {
            setting,
            message: message.into(),
        }
    }

    /// Build an `Io` error for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.into(),
            source,
        }
    }

    /// Build a `Data` error for `path`.
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::data_about(path, message, &[])
    }

    /// Build a `Data` error for `path` that `settings` can fix.
    pub fn data_about(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        settings: &[Setting],
    ) -> Self {
        EngineError::Data {
            path: path.into(),
            message: message.into(),
            settings: settings.to_vec(),
        }
    }

    /// Build a `Model` error.
    pub fn model(model: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::Model {
            model: model.into(),
            message: message.into(),
        }
    }
}

/// Engine result.
pub type Result<T> = std::result::Result<T, EngineError>;
