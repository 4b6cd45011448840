//! The service's two kinds of failure: [`ServeError`] keeps it from starting, and
//! [`ApiError`] answers one request as `{ "error": { "kind", "message" } }`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dialect::EngineError;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Loading or naming a model failed in the engine.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A non-loopback address without a token would serve anyone on the network.
    #[error("refusing to listen on {addr} without a token: any machine that can reach it could use the models. Give --token-file FILE or set DIALECT_SERVE_TOKEN, or bind 127.0.0.1")]
    Unprotected { addr: SocketAddr },
    /// The token file cannot be used.
    #[error("token file {path}: {message}")]
    TokenFile { path: PathBuf, message: String },
    /// The token from the environment cannot be used.
    #[error("DIALECT_SERVE_TOKEN: {0}")]
    TokenEnv(String),
    /// A limit is out of its bounds.
    #[error("{name}: {message}")]
    Limit { name: &'static str, message: String },
    /// Two models would answer to the same name.
    #[error(
        "two models are named '{0}': serve each run or folder once (rename a folder to serve both)"
    )]
    DuplicateName(String),
    /// No model was given.
    #[error("give at least one model folder or run id to serve")]
    NoModels,
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The runtime or the listener failed while serving.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ServeError> for EngineError {
    /// For front ends that report engine errors: the engine's own error as it is, a
    /// problem with the service's settings as an invalid setting, anything else as I/O.
    fn from(e: ServeError) -> Self {
        match e {
            ServeError::Engine(e) => e,
            ServeError::Bind { addr, source } => EngineError::io(addr.to_string(), source),
            ServeError::Io(source) => EngineError::io("the service", source),
            other => EngineError::Config(other.to_string()),
        }
    }
}

/// What went wrong with one request: its status, a stable kind and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

/// The JSON body of an error: `{ "error": { "kind", "message" } }`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    kind: &'a str,
    message: &'a str,
}

/// Seconds a client is asked to wait before retrying an overloaded service.
pub const RETRY_AFTER_SECONDS: u64 = 1;

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 400: the request cannot be read or asks for nothing.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "badRequest", message)
    }

    /// 401: the bearer token is missing or wrong.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404: no model has this name.
    pub fn unknown_model(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknownModel", message)
    }

    /// 404: no such path (or not with this method).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "notFound", message)
    }

    /// 405: the path exists, with another method.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "methodNotAllowed", message)
    }

    /// 408: the body did not arrive within the read timeout.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "timeout", message)
    }

    /// 413: the body or the batch is over its limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "tooLarge", message)
    }

    /// 503 with `Retry-After`: every prediction slot and queue place is taken.
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
    }

    /// 500: the prediction itself failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable kind, for programs.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

impl From<EngineError> for ApiError {
    /// A prediction's engine error: the input's fault as 400, anything else as 500.
    fn from(e: EngineError) -> Self {
        if e.is_user_error() {
            Self::bad_request(e.to_string())
        } else {
            Self::internal(e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorFields {
                kind: self.kind,
                message: &self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
