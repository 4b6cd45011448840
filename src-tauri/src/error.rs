//! The app's one error type: what a failed command sends to the UI,
//! `{ "kind": "...", "message": "...", "settings": [...] }`.

use dialect::error::ErrorCode;
use dialect::setting::Setting;
use dialect::EngineError;
use serde::Serialize;

/// What kind of failure an [`AppError`] is: the engine's code, or one of the app's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum ErrorKind {
    /// An engine error's kind.
    Engine(ErrorCode),
    /// The app's own.
    App(AppErrorCode),
}

/// The failures only the app has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum AppErrorCode {
    /// Something the UI asked for does not exist.
    NotFound,
    /// The webview asked for a file or folder the person did not open.
    Forbidden,
}

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AppError {
    /// Machine-readable class: the engine's [`EngineError::code`] (`busy` and
    /// `internal` also for the app's own), or `notFound`, `forbidden`.
    pub kind: ErrorKind,
    /// A sentence for a person.
    pub message: String,
    /// The settings that can fix it (the UI names their controls).
    pub settings: Vec<Setting>,
}

impl AppError {
    /// Another training job is running.
    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Engine(ErrorCode::Busy),
            message: message.into(),
            settings: Vec::new(),
        }
    }

    /// Something the UI asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::App(AppErrorCode::NotFound),
            message: message.into(),
            settings: Vec::new(),
        }
    }

    /// The webview asked for a file the person did not open.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::App(AppErrorCode::Forbidden),
            message: message.into(),
            settings: Vec::new(),
        }
    }

    /// A failure that is ours, not the user's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Engine(ErrorCode::Internal),
            message: message.into(),
            settings: Vec::new(),
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        Self {
            kind: ErrorKind::Engine(e.code()),
            message: e.to_string(),
            settings: e.settings(),
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
