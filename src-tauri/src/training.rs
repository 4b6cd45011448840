//! The app's one training job: a run the engine trains on its own thread
//! ([`dialect::runs::launch`]), with every event kept so a reloaded UI can re-attach,
//! and streamed to whichever channel is attached.

use crate::sync::lock;
use dialect::runs::{PendingRun, RunControl, RunHandle};
use dialect::TrainEvent;
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;

/// Events so far and the channel they go to.
#[derive(Default)]
struct Feed {
    events: Vec<TrainEvent>,
    channel: Option<Channel<TrainEvent>>,
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
    control: RunControl,
    feed: Arc<Mutex<Feed>>,
    /// The run's thread, until someone waits for it.
    handle: Option<RunHandle>,
}

/// What a UI gets when it (re-)attaches.
#[derive(serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Attached {
    pub run_id: String,
    pub running: bool,
    pub events: Vec<TrainEvent>,
}

impl TrainingJob {
    /// Start training the recorded `run`, streaming its events to `channel`.
    pub fn start(run: PendingRun, channel: Channel<TrainEvent>) -> dialect::Result<Self> {
        let feed = Arc::new(Mutex::new(Feed {
            events: Vec::new(),
            channel: Some(channel),
        }));
        let handle = {
            let feed = feed.clone();
            run.start(move |event| lock(&feed).publish(event))?
        };
        Ok(Self {
            run_id: handle.id().to_string(),
            control: handle.control(),
            feed,
            handle: Some(handle),
        })
    }

    /// The run being trained.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether training is still going.
    pub fn is_running(&self) -> bool {
        self.control.is_running()
    }

    /// Ask training to stop after the current step (the best model so far stays).
    pub fn cancel(&self) {
        self.control.cancel();
    }

    /// Send future events to `channel` and return everything so far.
    pub fn attach(&self, channel: Channel<TrainEvent>) -> Attached {
        let mut feed = lock(&self.feed);
        feed.channel = Some(channel);
        Attached {
            run_id: self.run_id.clone(),
            running: self.is_running(),
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
        if let Some(handle) = self.handle.take() {
            let waiter = std::thread::Builder::new()
                .name(format!("stop-{}", self.run_id))
                .spawn(move || {
                    let outcome = handle.wait();
                    if let Some(e) = outcome.record_error {
                        eprintln!("dialect: could not record the run: {e}");
                    }
                    then();
                });
            if let Err(e) = waiter {
                eprintln!("dialect: could not wait for training to stop: {e}");
            }
        }
        true
    }
}
