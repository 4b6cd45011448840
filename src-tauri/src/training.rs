//! The one training job: runs on its own thread with a cancel flag, records the run,
//! keeps every event so a reloaded UI can re-attach, and streams events to whichever
//! channel is attached. A panic in training ends the run as failed instead of leaving
//! the app busy.

use crate::state::lock;
use dialect::runs::Run;
use dialect::{RunSummary, TrainData, TrainEvent, Trainer};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tauri::ipc::Channel;

/// Events so far and the channel they go to.
#[derive(Default)]
struct Feed {
    events: Vec<TrainEvent>,
    channel: Option<Channel<TrainEvent>>,
    running: bool,
}

impl Feed {
    /// Keep `event` for re-attaching UIs and send it to the attached one.
    fn publish(&mut self, event: &TrainEvent) {
        self.events.push(event.clone());
        if let Some(channel) = &self.channel {
            // A closed webview is not an error for training.
            let _ = channel.send(event.clone());
        }
    }
}

/// A training job (running or ended).
pub struct TrainingJob {
    run_id: String,
    cancel: Arc<AtomicBool>,
    feed: Arc<Mutex<Feed>>,
    thread: Option<JoinHandle<()>>,
}

/// What a UI gets when it (re-)attaches.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attached {
    pub run_id: String,
    pub running: bool,
    pub events: Vec<TrainEvent>,
}

impl TrainingJob {
    /// Start training `data` with the recorded `run`'s config on a new thread.
    pub fn start(run: Run, data: TrainData, channel: Channel<TrainEvent>) -> Self {
        let config = run.config().clone();
        Self::spawn(run, channel, move |on_event, cancel| {
            Trainer::run(&config, &data, on_event, cancel)
        })
    }

    /// Resume the recorded `run` (reopened from the store) on `data` from its last
    /// completed epoch, on a new thread.
    pub fn resume(run: Run, data: TrainData, channel: Channel<TrainEvent>) -> Self {
        let config = run.config().clone();
        Self::spawn(run, channel, move |on_event, cancel| {
            Trainer::resume(&config, &data, on_event, cancel)
        })
    }

    /// Run `work` (training, reporting through its event callback and stopping when
    /// its flag is set) for the recorded `run` on a new thread. If `work` panics, the
    /// run ends as failed with the panic's message and a `Failed` event; models saved
    /// before stay.
    pub fn spawn(
        mut run: Run,
        channel: Channel<TrainEvent>,
        work: impl FnOnce(&mut dyn FnMut(&TrainEvent), &AtomicBool) -> dialect::Result<RunSummary>
            + Send
            + 'static,
    ) -> Self {
        let run_id = run.id().to_string();
        let cancel = Arc::new(AtomicBool::new(false));
        let feed = Arc::new(Mutex::new(Feed {
            events: Vec::new(),
            channel: Some(channel),
            running: true,
        }));
        let thread = {
            let (cancel, feed) = (cancel.clone(), feed.clone());
            std::thread::Builder::new()
                .name(format!("train-{run_id}"))
                .spawn(move || {
                    let mut record = |event: &TrainEvent| {
                        if let Err(e) = run.log(event) {
                            eprintln!("dialect: could not record the run: {e}");
                        }
                        lock(&feed).publish(event);
                    };
                    match catch_unwind(AssertUnwindSafe(|| work(&mut record, &cancel))) {
                        Ok(Ok(_)) => {}
                        // Trainer::run has reported it as a `Failed` event.
                        Ok(Err(e)) => eprintln!("dialect: training ended with an error: {e}"),
                        Err(panic) => record(&TrainEvent::Failed {
                            message: format!(
                                "training stopped on an internal error: {}. The best model \
                                 saved before it is kept.",
                                panic_message(panic.as_ref())
                            ),
                        }),
                    }
                    dialect::allocator::release();
                    lock(&feed).running = false;
                })
        };
        let thread = match thread {
            Ok(handle) => Some(handle),
            Err(e) => {
                let mut f = lock(&feed);
                f.running = false;
                f.publish(&TrainEvent::Failed {
                    message: format!("could not start the training thread: {e}"),
                });
                None
            }
        };
        Self {
            run_id,
            cancel,
            feed,
            thread,
        }
    }

    /// The run being trained.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether training is still going.
    pub fn is_running(&self) -> bool {
        lock(&self.feed).running
    }

    /// Ask training to stop after the current step (the best model so far stays).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Send future events to `channel` and return everything so far.
    pub fn attach(&self, channel: Channel<TrainEvent>) -> Attached {
        let mut feed = lock(&self.feed);
        feed.channel = Some(channel);
        Attached {
            run_id: self.run_id.clone(),
            running: feed.running,
            events: feed.events.clone(),
        }
    }

    /// If the job is running: cancel it, and call `then` once it has recorded its
    /// end, from a thread of its own, so the caller (the UI's main thread) never
    /// waits. A later call while that wait is on only cancels. Returns whether the job
    /// was running.
    pub fn cancel_then(&mut self, then: impl FnOnce() + Send + 'static) -> bool {
        if !self.is_running() {
            return false;
        }
        self.cancel();
        if let Some(worker) = self.thread.take() {
            let waiter = std::thread::Builder::new()
                .name(format!("stop-{}", self.run_id))
                .spawn(move || {
                    let _ = worker.join();
                    then();
                });
            if let Err(e) = waiter {
                eprintln!("dialect: could not wait for training to stop: {e}");
            }
        }
        true
    }
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
