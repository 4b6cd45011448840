//! Requests for one model that wait at the same time are classified together: whoever
//! gets a prediction slot takes the waiting requests in arrival order, up to
//! `max_batch` texts, as one batch on a blocking thread, and answers each of them.

use crate::admission::Admitted;
use crate::classifier::Classifier;
use crate::error::ApiError;
use dialect::Prediction;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

/// One model's waiting requests.
pub struct Batcher {
    classifier: Arc<dyn Classifier>,
    pending: Mutex<VecDeque<Job>>,
    next_id: AtomicU64,
}

/// A request waiting to be classified; its queue place is held until it is answered.
struct Job {
    id: u64,
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Prediction>, ApiError>>,
    _place: OwnedSemaphorePermit,
}

/// Removes a request's job from the queue if it is still there when the request ends.
struct LeaveOnDrop<'a> {
    batcher: &'a Batcher,
    id: u64,
}

impl Drop for LeaveOnDrop<'_> {
    fn drop(&mut self) {
        self.batcher.queue().retain(|job| job.id != self.id);
    }
}

impl Batcher {
    /// Batches for `classifier`.
    pub fn new(classifier: Arc<dyn Classifier>) -> Self {
        Self {
            classifier,
            pending: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// The model.
    pub fn classifier(&self) -> &dyn Classifier {
        self.classifier.as_ref()
    }

    /// Predictions for `texts` (at most `max_batch`): queued with the request's place,
    /// classified once a slot is free, together with the requests waiting beside it.
    pub async fn classify(
        self: &Arc<Self>,
        admitted: Admitted,
        texts: Vec<String>,
        max_batch: usize,
    ) -> Result<Vec<Prediction>, ApiError> {
        let (place, running) = admitted.into_parts();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.queue().push_back(Job {
            id,
            texts,
            reply,
            _place: place,
        });
        // A request dropped before its batch is taken (its client gone) leaves the queue.
        let _leaves = LeaveOnDrop { batcher: self, id };
        let mut slot = running
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("the prediction slots were closed"))?;
        // Batches are taken from the front: run them until this request's is done.
        while self.is_pending(id) {
            let batch = self.take(max_batch);
            let this = Arc::clone(self);
            slot = tokio::task::spawn_blocking(move || {
                this.answer(batch);
                slot
            })
            .await
            .map_err(|e| ApiError::internal(format!("the prediction failed: {e}")))?;
        }
        drop(slot);
        answer
            .await
            .map_err(|_| ApiError::internal("the prediction ended without an answer"))?
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_pending(&self, id: u64) -> bool {
        self.queue().iter().any(|job| job.id == id)
    }

    /// The waiting requests from the front, as many as fit in `max_batch` texts (at
    /// least one).
    fn take(&self, max_batch: usize) -> Vec<Job> {
        let mut queue = self.queue();
        let mut batch: Vec<Job> = Vec::new();
        let mut texts = 0;
        while let Some(job) = queue.pop_front() {
            if !batch.is_empty() && texts + job.texts.len() > max_batch {
                queue.push_front(job);
                break;
            }
            texts += job.texts.len();
            batch.push(job);
        }
        batch
    }

    /// Classify `batch`'s texts in one call and answer each request with its own
    /// predictions. When the batch fails and holds several requests, each is classified
    /// alone, so that one request's failure is not the others'.
    fn answer(&self, mut batch: Vec<Job>) {
        let sizes: Vec<usize> = batch.iter().map(|job| job.texts.len()).collect();
        let texts: Vec<String> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.texts))
            .collect();
        let result = self.classifier.classify(&texts).map_err(ApiError::from);
        match result {
            Ok(predictions) if predictions.len() == texts.len() => {
                let mut predictions = predictions.into_iter();
                for (job, size) in batch.into_iter().zip(sizes) {
                    let _ = job
                        .reply
                        .send(Ok(predictions.by_ref().take(size).collect()));
                }
            }
            Ok(predictions) => {
                let error = ApiError::internal(format!(
                    "the model gave {} predictions for {} texts",
                    predictions.len(),
                    texts.len()
                ));
                for job in batch {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
            Err(error) if batch.len() == 1 => {
                for job in batch {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
            Err(_) => {
                let mut texts = texts.into_iter();
                for (job, size) in batch.into_iter().zip(sizes) {
                    let own: Vec<String> = texts.by_ref().take(size).collect();
                    let _ = job
                        .reply
                        .send(self.classifier.classify(&own).map_err(ApiError::from));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Admission;
    use crate::config::Limits;
    use dialect::{DeviceChoice, EngineError, Predictor};
    use tokio::sync::Semaphore;

    /// The tiny golden model, failing any call with more than one text.
    struct FailsOnBatches(Predictor);

    impl Classifier for FailsOnBatches {
        fn labels(&self) -> &[String] {
            self.0.labels()
        }

        fn threshold(&self) -> Option<f64> {
            None
        }

        fn precision(&self) -> &'static str {
            "f32"
        }

        fn classify(&self, texts: &[String]) -> Result<Vec<Prediction>, EngineError> {
            if texts.len() > 1 {
                return Err(EngineError::Internal("a batch".into()));
            }
            self.0.predict(texts)
        }
    }

    fn batcher() -> Arc<Batcher> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/golden/bert/model");
        let predictor = Predictor::load(&dir, DeviceChoice::Cpu).unwrap();
        Arc::new(Batcher::new(Arc::new(FailsOnBatches(predictor))))
    }

    #[test]
    fn when_a_batch_fails_each_request_is_classified_alone() {
        let batcher = batcher();
        let places = Arc::new(Semaphore::new(2));
        let mut answers = Vec::new();
        let jobs = ["sync crashes", "please add dark mode"].map(|text| {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            Job {
                id: 0,
                texts: vec![text.to_string()],
                reply,
                _place: Arc::clone(&places).try_acquire_owned().unwrap(),
            }
        });
        batcher.answer(jobs.into());
        for mut answer in answers {
            let predictions = answer.try_recv().unwrap().unwrap();
            assert_eq!(predictions.len(), 1);
        }
        assert_eq!(
            places.available_permits(),
            2,
            "answered jobs free their places"
        );
    }

    #[tokio::test]
    async fn a_request_dropped_while_waiting_leaves_the_queue_and_frees_its_place() {
        let limits = Limits {
            max_concurrent: 1,
            max_queue: 1,
            ..Limits::default()
        };
        let admission = Admission::new(&limits);
        let batcher = batcher();
        // Another request holds the only slot.
        let (_held, running) = admission.admit().unwrap().into_parts();
        let _slot = Arc::clone(&running).acquire_owned().await.unwrap();

        let waiting = admission.admit().unwrap();
        let request = {
            let batcher = Arc::clone(&batcher);
            tokio::spawn(async move { batcher.classify(waiting, vec!["hello".into()], 8).await })
        };
        while batcher.queue().is_empty() {
            tokio::task::yield_now().await;
        }
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert!(batcher.queue().is_empty());
        assert_eq!(
            admission.load().admitted,
            1,
            "only the request holding the slot"
        );
    }
}
