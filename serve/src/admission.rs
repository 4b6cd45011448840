//! Back-pressure: at most `max_concurrent` prediction batches run, each on a blocking
//! thread, and at most `max_concurrent + max_queue` requests are admitted (running or
//! waiting); any request past that is answered 503 with `Retry-After` at once, so
//! neither threads nor memory grow with load.

use crate::config::Limits;
use crate::error::ApiError;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate every prediction passes.
#[derive(Clone)]
pub struct Admission {
    /// Places for requests admitted: running or waiting.
    admitted: Arc<Semaphore>,
    /// Places for predictions running.
    running: Arc<Semaphore>,
    limits: Limits,
}

/// How busy the service is, as `GET /healthz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Load {
    /// Requests admitted and not yet answered (running or waiting).
    pub admitted: usize,
    /// Prediction batches computing.
    pub running: usize,
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
            limits: *limits,
        }
    }

    /// Requests admitted and batches running now.
    pub fn load(&self) -> Load {
        let places = self.limits.max_concurrent + self.limits.max_queue;
        Load {
            admitted: places - self.admitted.available_permits(),
            running: self.limits.max_concurrent - self.running.available_permits(),
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
    /// The request's place, and the slots its prediction waits for.
    pub(crate) fn into_parts(self) -> (OwnedSemaphorePermit, Arc<Semaphore>) {
        (self.place, self.running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_concurrent: usize, max_queue: usize) -> Limits {
        Limits {
            max_concurrent,
            max_queue,
            ..Limits::default()
        }
    }

    #[test]
    fn past_the_running_and_waiting_places_requests_are_refused_until_one_ends() {
        let gate = Admission::new(&limits(1, 1));
        let first = gate.admit().unwrap();
        let second = gate.admit().expect("one queue place");
        let refused = gate.admit().err().expect("no place left");
        assert_eq!(
            refused.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(refused.kind(), "overloaded");
        assert_eq!(
            gate.load(),
            Load {
                admitted: 2,
                running: 0
            }
        );
        drop(first);
        let third = gate.admit().expect("places come back when a request ends");
        drop((second, third));
        assert_eq!(
            gate.load(),
            Load {
                admitted: 0,
                running: 0
            }
        );
    }

    #[test]
    fn a_queue_of_zero_refuses_while_every_slot_is_taken() {
        let gate = Admission::new(&limits(1, 0));
        let held = gate.admit().unwrap();
        assert!(gate.admit().is_err());
        drop(held);
        assert!(gate.admit().is_ok());
    }

    #[tokio::test]
    async fn a_running_slot_counts_as_running() {
        let gate = Admission::new(&limits(2, 1));
        let (_place, running) = gate.admit().unwrap().into_parts();
        let _slot = running.acquire_owned().await.unwrap();
        assert_eq!(
            gate.load(),
            Load {
                admitted: 1,
                running: 1
            }
        );
    }
}
