//! `dialect serve`: a local HTTP prediction service over the engine's [`Predictor`]
//! (axum on tokio).
//!
//! - `POST /v1/classify` `{ "model"?, "text" | "texts" }` → `{ model, predictions }`,
//!   each prediction the engine's (label, confidence, per-class probabilities, route).
//! - `GET /v1/models` → `{ models: [{ name, labels, threshold, precision, default }] }`.
//! - `GET /healthz` → `{ "status": "ok", "admitted", "running" }` (no token needed).
//!
//! Errors are `{ "error": { "kind", "message" } }`. Predictions run on blocking
//! threads behind [`admission`]'s bounded queue, requests waiting together for one
//! model in one batch ([`batching`]); bodies, batches, open connections and the time a
//! request may take to arrive have limits ([`Limits`], `connections`); off loopback a
//! bearer token is required ([`auth`]).
//!
//! [`Predictor`]: dialect::Predictor

pub mod admission;
pub mod auth;
pub mod batching;
pub mod classifier;
pub mod config;
mod connections;
pub mod error;
pub mod models;
pub mod routes;
pub mod shutdown;

pub use auth::{Token, TOKEN_ENV};
pub use classifier::Classifier;
pub use config::{Limits, ServeConfig, DEFAULT_BIND};
pub use error::{ApiError, ServeError};
pub use models::{locate, Models, ServedModel};

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A service bound to its address, ready to serve.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
}

impl Server {
    /// Check `config` (limits; a token off loopback) and bind its address.
    pub async fn bind(config: &ServeConfig, models: Models) -> Result<Self, ServeError> {
        config.check()?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.bind,
                source,
            })?;
        Ok(Self {
            listener,
            router: routes::router(config, models),
            limits: config.limits,
        })
    }

    /// The address bound (its port when port 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serve until `shutdown` completes, then stop accepting and return once the
    /// requests in flight have been answered.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        connections::serve(self.listener, self.router, &self.limits, shutdown).await;
        Ok(())
    }
}

/// Serve `models` as `config` says until SIGTERM or Ctrl-C, on a runtime of its own;
/// `on_ready` gets the bound address once requests are accepted.
pub fn serve_until_signalled(
    config: &ServeConfig,
    models: Models,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("dialect-serve")
        .build()?;
    runtime.block_on(async {
        let server = Server::bind(config, models).await?;
        on_ready(server.local_addr()?);
        server.run(shutdown::signalled()).await
    })
}
