//! The accept loop: at most [`Limits::max_connections`] connections open at once, each
//! closed when a request's headers take longer than [`Limits::read_timeout`] to arrive
//! (an idle keep-alive connection included), and a graceful shutdown.
//!
//! At the cap the loop stops accepting: new connections wait in the kernel's listen
//! backlog (the client sees a slow connect, not a refusal) and are served in turn as
//! others close. So a flood of idle or slow connections holds at most the cap's sockets
//! and tasks, each for at most the read timeout. Only HTTP/1.1 is served.
//!
//! [`Limits::max_connections`]: crate::Limits::max_connections
//! [`Limits::read_timeout`]: crate::Limits::read_timeout

use crate::config::Limits;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long to wait before accepting again after the listener failed (too many open
/// files, most likely), as hyper and axum do.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serve `router` on `listener` within `limits` until `shutdown` completes; then stop
/// accepting, let each connection finish the request it is answering, and return once
/// all are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let place = tokio::select! {
            biased;
            () = &mut shutdown => break,
            place = Arc::clone(&places).acquire_owned() => match place {
                Ok(place) => place,
                // The semaphore is never closed; should it be, stop as if asked to.
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if !is_connection_error(&e) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // An error here is the client's going (or its timeout): nobody to tell.
            let _ = connection.await;
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Errors of one connection that failed while being accepted, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
