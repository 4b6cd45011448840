//! Back-pressure: at most `max_concurrent` predictions run, each on a blocking thread,
//! and at most `max_queue` more requests wait for one; any request past that is
//! answered 503 with `Retry-After` at once, so neither threads nor memory grow with load.

use crate::config::Limits;
use crate::error::ApiError;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate every prediction passes.
#[derive(Clone)]
pub struct Admission {
    /// Places for requests admitted: running or waiting.
    admitted: Arc<Semaphore>,
    /// Places for predictions running.
    running: Arc<Semaphore>,
}

/// A request's place in the queue; it holds the place until its work is done.
pub struct Admitted {
    place: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
}

impl Admission {
    /// A gate for `limits.max_concurrent` running and `limits.max_queue` waiting.
    pub fn new(limits: &Limits) -> Self {
        Self {
            admitted: Arc::new(Semaphore::new(limits.max_concurrent + limits.max_queue)),
            running: Arc::new(Semaphore::new(limits.max_concurrent)),
        }
    }

    /// A place for one more request, or 503 when every place is taken.
    pub fn admit(&self) -> Result<Admitted, ApiError> {
        match Arc::clone(&self.admitted).try_acquire_owned() {
            Ok(place) => Ok(Admitted {
                place,
                running: Arc::clone(&self.running),
            }),
            Err(_) => Err(ApiError::overloaded(
                "every prediction slot and queue place is taken: retry after the time in Retry-After",
            )),
        }
    }
}

impl Admitted {
    /// Wait for a prediction slot, then run `work` on a blocking thread. The place and
    /// the slot are held until `work` returns, even if the client has gone.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let slot = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("the prediction slots were closed"))?;
        let place = self.place;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop((slot, place));
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("the prediction failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn limits(max_concurrent: usize, max_queue: usize) -> Limits {
        Limits {
            max_concurrent,
            max_queue,
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn past_the_running_and_waiting_places_requests_are_refused_until_one_ends() {
        let gate = Admission::new(&limits(1, 1));
        let (release, wait) = mpsc::channel::<()>();
        let (started, on_start) = mpsc::channel::<()>();
        let first = gate.admit().unwrap();
        let running = tokio::spawn(first.run(move || {
            started.send(()).unwrap();
            wait.recv().unwrap();
            1
        }));
        tokio::task::spawn_blocking(move || on_start.recv().unwrap())
            .await
            .unwrap();
        let waiting = gate.admit().expect("one queue place");
        let refused = gate.admit().err().expect("no place left");
        assert_eq!(
            refused.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(refused.kind(), "overloaded");

        let queued = tokio::spawn(waiting.run(|| 2));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 1);
        assert_eq!(queued.await.unwrap().unwrap(), 2);
        assert!(gate.admit().is_ok(), "places come back when work ends");
    }

    #[tokio::test]
    async fn a_queue_of_zero_refuses_while_every_slot_runs() {
        let gate = Admission::new(&limits(1, 0));
        let held = gate.admit().unwrap();
        assert!(gate.admit().is_err());
        drop(held);
        assert!(gate.admit().is_ok());
    }
}
