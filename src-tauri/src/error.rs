//! The app's one error type: what a failed command sends to the UI,
//! `{ "kind": "...", "message": "..." }`.

use dialect::EngineError;
use serde::Serialize;

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    /// Machine-readable class: `data`, `dataChanged`, `io`, `model`, `modelNotFound`, `config`,
    /// `device`, `diverged`, `outOfMemory`, `tokenizer`, `busy`, `notFound`, `forbidden`,
    /// `internal`.
    pub kind: &'static str,
    /// A sentence for a person.
    pub message: String,
}

impl AppError {
    /// Another training job is running.
    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            kind: "busy",
            message: message.into(),
        }
    }

    /// Something the UI asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: "notFound",
            message: message.into(),
        }
    }

    /// The webview asked for a file the person did not open.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            kind: "forbidden",
            message: message.into(),
        }
    }

    /// A failure that is ours, not the user's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: "internal",
            message: message.into(),
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        let kind = match &e {
            EngineError::Io { .. } => "io",
            EngineError::Data { .. } => "data",
            EngineError::DataChanged { .. } => "dataChanged",
            EngineError::RunInUse { .. } => "busy",
            EngineError::Model { .. } => "model",
            EngineError::ModelNotFound { .. } => "modelNotFound",
            EngineError::Config(_) => "config",
            EngineError::Device(_) => "device",
            EngineError::Diverged { .. } => "diverged",
            EngineError::OutOfMemory { .. } => "outOfMemory",
            EngineError::Tokenizer(_) => "tokenizer",
            EngineError::Tensor(_) | EngineError::Json(_) => "internal",
        };
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

/// What every command returns.
pub type AppResult<T> = Result<T, AppError>;

/// Run blocking engine work off the main thread and the async runtime's workers, then
/// hand the memory it freed back to the OS.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(|| {
        let result = work();
        dialect::allocator::release();
        result
    })
    .await
    .map_err(|e| AppError::internal(format!("background task failed: {e}")))?
}
