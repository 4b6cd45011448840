//! The engine's one error type.

use std::path::PathBuf;

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
    Data { path: PathBuf, message: String },
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
    /// The requested compute device is not available.
    #[error("device: {0}")]
    Device(String),
    /// Training diverged (NaN or infinite loss).
    #[error("training diverged at step {step}: loss is {loss}. Try a lower learning rate (e.g. --lr 1e-5) or a smaller batch.")]
    Diverged { step: usize, loss: f32 },
    /// The device ran out of memory.
    #[error("out of memory on {device}: try a smaller batch size (--batch-size) or max length (--max-length). ({message})")]
    OutOfMemory { device: String, message: String },
    /// Tokenizer failure.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl EngineError {
    /// Whether the person using the tool can fix this by changing input or settings.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, EngineError::Tensor(_) | EngineError::Json(_))
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
        EngineError::Data {
            path: path.into(),
            message: message.into(),
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
