//! Training runs: the store that records every run in its own folder ([`store`]), and
//! the one way to start or resume one ([`launch`]), shared by the CLI and the app.

pub mod launch;
pub mod store;
pub mod trainer_import;

pub use launch::{PendingRun, RunControl, RunHandle, RunOutcome, RunRequest};
pub use store::{validate_id, Run, RunRecord, RunStatus, RunStore};
