//! "Serve this model": the one prediction service the app runs (the `dialect-serve`
//! crate on the app's async runtime), a run's model on loopback only, so without a
//! token. Starting it for a run replaces the service running; it stops when asked or
//! when the app exits.

use crate::error::{AppError, AppResult};
use dialect::{EngineError, Predictor};
use dialect_serve::{Limits, Models, ServeConfig, ServeError, ServedModel, Server};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tauri::async_runtime::JoinHandle;
use tokio::sync::{oneshot, Mutex};

/// How long the app's exit waits for the requests in flight to be answered.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Where the service answers, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInfo {
    /// The run whose model is served.
    pub run_id: String,
    /// The name requests may give as `model` (the run id; the only model, so also the
    /// default).
    pub model: String,
    /// The service's root, `http://127.0.0.1:PORT`.
    pub url: String,
}

/// A running service: what it serves, and how to stop it.
struct Service {
    info: ServiceInfo,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Service {
    /// Serve `predictor` as run `run_id`'s model on 127.0.0.1:`port` (0: a free port).
    async fn start(run_id: String, predictor: Predictor, port: u16) -> AppResult<Self> {
        let config = ServeConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            token: None,
            limits: Limits::default(),
        };
        let models =
            Models::new(vec![ServedModel::new(run_id.clone(), predictor)]).map_err(app_error)?;
        let server = Server::bind(&config, models).await.map_err(app_error)?;
        let addr = server.local_addr().map_err(app_error)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tauri::async_runtime::spawn(server.run(async {
            // A dropped sender stops the service as a sent stop does.
            let _ = stopped.await;
        }));
        Ok(Self {
            info: ServiceInfo {
                model: run_id.clone(),
                run_id,
                url: format!("http://{addr}"),
            },
            stop,
            task,
        })
    }

    /// Stop accepting, answer the requests in flight, and return once it has stopped.
    async fn stop(self) -> AppResult<()> {
        // The service may have ended already; then there is nobody to tell.
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| AppError::internal(format!("the service's task failed: {e}")))?
            .map_err(app_error)
    }
}

/// A service error as the UI receives it.
fn app_error(e: ServeError) -> AppError {
    EngineError::from(e).into()
}

/// The app's one service, or none.
#[derive(Default)]
pub struct ServiceSlot(Mutex<Option<Service>>);

impl ServiceSlot {
    /// Serve `predictor` as run `run_id`'s model on 127.0.0.1:`port` (0: a free port),
    /// after stopping the service running, if any.
    pub async fn replace(
        &self,
        run_id: String,
        predictor: Predictor,
        port: u16,
    ) -> AppResult<ServiceInfo> {
        let mut slot = self.0.lock().await;
        if let Some(running) = slot.take() {
            running.stop().await?;
        }
        let service = Service::start(run_id, predictor, port).await?;
        let info = service.info.clone();
        *slot = Some(service);
        Ok(info)
    }

    /// Stop the service, if one runs.
    pub async fn stop(&self) -> AppResult<()> {
        match self.0.lock().await.take() {
            Some(running) => running.stop().await,
            None => Ok(()),
        }
    }

    /// Where the service answers, or `None` when none runs.
    pub async fn info(&self) -> Option<ServiceInfo> {
        self.0.lock().await.as_ref().map(|s| s.info.clone())
    }

    /// Stop the service as the app exits, waiting a moment at most for the requests in
    /// flight (call from outside the async runtime).
    pub fn stop_on_exit(&self) {
        tauri::async_runtime::block_on(async {
            let _ = tokio::time::timeout(EXIT_WAIT, self.stop()).await;
        });
    }
}
