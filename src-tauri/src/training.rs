//! The one training job: runs on its own thread with a cancel flag, records the run,
//! keeps every event so a reloaded UI can re-attach, and streams events to whichever
//! channel is attached.

use crate::state::lock;
use dialect::runs::Run;
use dialect::{TrainConfig, TrainData, TrainEvent, Trainer};
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
    pub fn start(mut run: Run, data: TrainData, channel: Channel<TrainEvent>) -> Self {
        let run_id = run.id().to_string();
        let config: TrainConfig = run.config().clone();
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
                    let result = Trainer::run(
                        &config,
                        &data,
                        |event| {
                            if let Err(e) = run.log(event) {
                                eprintln!("dialect: could not record the run: {e}");
                            }
                            lock(&feed).publish(event);
                        },
                        &cancel,
                    );
                    if let Err(e) = result {
                        eprintln!("dialect: training ended with an error: {e}");
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

    /// Cancel and wait for the thread to record the run's end.
    pub fn cancel_and_wait(&mut self) {
        self.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
