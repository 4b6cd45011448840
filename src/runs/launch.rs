//! Starting and resuming runs: settings and a data spec in, a training thread out.
//!
//! [`RunStore::new_run`] validates the settings, reads and checks the data and records
//! the run; [`RunStore::resume_run`] reopens an unfinished one. Either gives a
//! [`PendingRun`], whose [`start`](PendingRun::start) trains on a thread of its own:
//! every event is logged to the run, then handed to the caller's `on_event`; the
//! returned [`RunHandle`] cancels the run and waits for its result. A panic in training
//! ends the run as failed (the best model saved before stays) instead of taking the
//! caller down.

use super::store::{Run, RunStore};
use crate::dataset::corrections::Corrections;
use crate::dataset::quality::QualityReport;
use crate::dataset::Warnings;
use crate::error::{EngineError, Result};
use crate::events::{RunSummary, TrainEvent};
use crate::settings::TrainConfig;
use crate::train::{DataSpec, TrainData, Trainer};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What a new run is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RunRequest {
    /// Omitted settings take the Hugging Face recipe's defaults.
    #[serde(default)]
    pub config: TrainConfig,
    pub data: DataSpec,
    /// Train despite blocking data-quality findings.
    #[serde(default)]
    pub force: bool,
    /// The run this one retrains, recorded as its parent.
    #[serde(default)]
    pub parent: Option<String>,
}

/// A recorded run with its data read, ready to train.
pub struct PendingRun {
    run: Run,
    data: TrainData,
    resume: bool,
    control: RunControl,
    /// What reading the data warned about.
    pub warnings: Warnings,
    /// The data check of a new run (`None` when resuming: the run was checked when it
    /// started).
    pub report: Option<QualityReport>,
}

impl RunStore {
    /// Validate `request`'s settings, read and check its data (blocking findings refuse
    /// the run unless `force`) and record a new run of it. The recorded config, with
    /// the model and checkpoints inside the run's folder, is the one that trains.
    pub fn new_run(&self, request: RunRequest) -> Result<PendingRun> {
        request.config.validate()?;
        let loaded = request.data.load(request.force)?;
        if let Some(parent) = &request.parent {
            self.get(parent)?;
        }
        let mut run = self.create(&request.config, &request.data, &loaded.data.validation)?;
        if request.parent.is_some() {
            run.set_parent(request.parent)?;
        }
        Ok(PendingRun {
            run,
            data: loaded.data,
            resume: false,
            control: RunControl::default(),
            warnings: loaded.warnings,
            report: Some(loaded.report),
        })
    }

    /// A request to train run `id` again with the same settings and data, and
    /// `corrections` in place of the ones it trained with; the new run names `id` as
    /// its parent.
    pub fn retrain_request(
        &self,
        id: &str,
        corrections: Option<Corrections>,
    ) -> Result<RunRequest> {
        let record = self.get(id)?;
        let mut data = record.data;
        data.corrections = corrections.filter(|c| !c.is_empty());
        Ok(RunRequest {
            config: record.config,
            data,
            force: false,
            parent: Some(record.id),
        })
    }

    /// Reopen run `id` (cancelled, failed or interrupted, with a checkpoint) to continue
    /// it from its last completed epoch on its own data and settings; refused when the
    /// data changed since it started.
    pub fn resume_run(&self, id: &str) -> Result<PendingRun> {
        let run = self.reopen(id)?;
        let data = run.reload_data()?;
        Ok(PendingRun {
            run,
            data,
            resume: true,
            control: RunControl::default(),
            warnings: Warnings::default(),
            report: None,
        })
    }
}

/// Cancels a run and tells whether it still trains; cheap to clone and share.
#[derive(Clone, Default)]
pub struct RunControl {
    cancel: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
}

impl RunControl {
    /// Ask the run to stop after its current step (the best model so far stays).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Whether a cancel was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Whether the run's thread is still going (it has not recorded its end yet).
    pub fn is_running(&self) -> bool {
        !self.done.load(Ordering::SeqCst)
    }
}

/// How a run's thread ended.
pub struct RunOutcome {
    /// The summary (also for a cancelled run), or the error it failed with.
    pub result: Result<RunSummary>,
    /// The first event that could not be written to the run's record, if any.
    pub record_error: Option<EngineError>,
}

/// A run training on its own thread.
pub struct RunHandle {
    id: String,
    control: RunControl,
    thread: JoinHandle<RunOutcome>,
}

impl PendingRun {
    /// The run's id.
    pub fn id(&self) -> &str {
        self.run.id()
    }

    /// The settings it will train with (model and checkpoints inside the run's folder).
    pub fn config(&self) -> &TrainConfig {
        self.run.config()
    }

    /// The control of the run this will train (to cancel it from an event handler).
    pub fn control(&self) -> RunControl {
        self.control.clone()
    }

    /// Train on a new thread. Each event is logged to the run, then passed to
    /// `on_event` (on that thread).
    pub fn start(self, on_event: impl FnMut(&TrainEvent) + Send + 'static) -> Result<RunHandle> {
        let Self {
            mut run,
            data,
            resume,
            control,
            ..
        } = self;
        let id = run.id().to_string();
        let thread = {
            let (config, control) = (run.config().clone(), control.clone());
            std::thread::Builder::new()
                .name(format!("train-{id}"))
                .spawn(move || {
                    let outcome = train(&mut run, &config, &data, resume, &control, on_event);
                    crate::allocator::release();
                    control.done.store(true, Ordering::SeqCst);
                    outcome
                })
                .map_err(|e| {
                    EngineError::Internal(format!("cannot start a training thread: {e}"))
                })?
        };
        Ok(RunHandle {
            id,
            control,
            thread,
        })
    }
}

/// Train (or resume) `run` on `data`, logging every event before passing it on.
fn train(
    run: &mut Run,
    config: &TrainConfig,
    data: &TrainData,
    resume: bool,
    control: &RunControl,
    mut on_event: impl FnMut(&TrainEvent),
) -> RunOutcome {
    let mut record_error = None;
    let mut record = |event: &TrainEvent| {
        if let Err(e) = run.log(event) {
            record_error.get_or_insert(e);
        }
        on_event(event);
    };
    let cancel = &control.cancel;
    let trained = catch_unwind(AssertUnwindSafe(|| {
        if resume {
            Trainer::resume(config, data, &mut record, cancel)
        } else {
            Trainer::run(config, data, &mut record, cancel)
        }
    }));
    let result = trained.unwrap_or_else(|panic| {
        let message = format!(
            "training stopped on an internal error: {}. The best model saved before it is kept.",
            panic_message(panic.as_ref())
        );
        record(&TrainEvent::Failed {
            message: message.clone(),
        });
        Err(EngineError::Internal(message))
    });
    RunOutcome {
        result,
        record_error,
    }
}

impl RunHandle {
    /// The run's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Cancel it, or ask whether it still trains, from anywhere.
    pub fn control(&self) -> RunControl {
        self.control.clone()
    }

    /// Wait for the run to end.
    pub fn wait(self) -> RunOutcome {
        self.thread.join().unwrap_or_else(|panic| RunOutcome {
            result: Err(EngineError::Internal(format!(
                "the training thread failed: {}",
                panic_message(panic.as_ref())
            ))),
            record_error: None,
        })
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
