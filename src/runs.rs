//! The run store: every training run in its own folder,
//! `<root>/<id>/{run.json, events.jsonl, model/}`, so past runs can be listed, opened,
//! tried, exported and deleted. Run ids are validated: no path can escape the root.

use crate::atomic::write_atomic;
use crate::error::{EngineError, Result};
use crate::model::folder::copy_model_files;
use crate::train::{DataSpec, RunSummary, TrainConfig, TrainEvent};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    Running,
    Finished,
    Cancelled,
    Failed,
    /// Recorded as running, but its process is gone (crash, kill, power loss).
    Interrupted,
}

/// What `run.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub id: String,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub status: RunStatus,
    pub config: TrainConfig,
    pub data: DataSpec,
    /// The latest summary (set when the run ends).
    pub summary: Option<RunSummary>,
    /// Best value of the chosen metric so far, and its epoch.
    pub best: Option<(usize, f64)>,
    pub error: Option<String>,
    /// The process recording the run, to tell a running run from an interrupted one.
    #[serde(default)]
    pub pid: Option<u32>,
}

/// A folder of runs.
#[derive(Debug, Clone)]
pub struct RunStore {
    root: PathBuf,
}

/// A run being recorded: appends events and keeps `run.json` current.
pub struct Run {
    record: RunRecord,
    dir: PathBuf,
    events: std::fs::File,
}

const RECORD: &str = "run.json";
const EVENTS: &str = "events.jsonl";
const MODEL: &str = "model";
/// The resumable state of the last completed epoch (gone once the run finishes).
const CHECKPOINT: &str = "checkpoint";

/// Check that `id` is a run id (letters, digits, `-`, `_`; 1–64 characters).
pub fn validate_id(id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(EngineError::Config(format!("'{id}' is not a run id")))
    }
}

impl RunStore {
    /// A store at `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$DIALECT_HOME/runs`, else `~/.local/share/dialect/runs`.
    pub fn default_root() -> PathBuf {
        match std::env::var_os("DIALECT_HOME") {
            Some(home) if !home.is_empty() => PathBuf::from(home).join("runs"),
            _ => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".local/share/dialect/runs"),
        }
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Start recording a run of `config` on `data`. The returned run's config saves the
    /// model, and the checkpoints a resume needs, inside the run folder.
    pub fn create(&self, config: &TrainConfig, data: &DataSpec) -> Result<Run> {
        std::fs::create_dir_all(&self.root).map_err(|e| EngineError::io(&self.root, e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (id, dir) = (0u32..1000)
            .map(|n| {
                let id = if n == 0 {
                    timestamp_id(now)
                } else {
                    format!("{}-{n}", timestamp_id(now))
                };
                let dir = self.root.join(&id);
                (id, dir)
            })
            .find(|(_, dir)| std::fs::create_dir(dir).is_ok())
            .ok_or_else(|| {
                EngineError::Config(format!(
                    "cannot create a run folder in {}",
                    self.root.display()
                ))
            })?;
        let mut config = config.clone();
        config.output_dir = dir.join(MODEL);
        config.checkpoint_dir = Some(dir.join(CHECKPOINT));
        let record = RunRecord {
            id,
            created_at: now,
            status: RunStatus::Running,
            config,
            data: data.clone(),
            summary: None,
            best: None,
            error: None,
            pid: Some(std::process::id()),
        };
        let events_path = dir.join(EVENTS);
        let events =
            std::fs::File::create(&events_path).map_err(|e| EngineError::io(&events_path, e))?;
        let run = Run {
            record,
            dir,
            events,
        };
        run.save()?;
        Ok(run)
    }

    /// Reopen run `id` to resume it: it must have ended without finishing (cancelled,
    /// failed or interrupted) and still hold its checkpoint. Its record reads as
    /// running again, and new events are appended to its log.
    pub fn reopen(&self, id: &str) -> Result<Run> {
        let dir = self.dir(id)?;
        let mut record = read_record(&dir.join(RECORD))?;
        match record.status {
            RunStatus::Cancelled | RunStatus::Failed | RunStatus::Interrupted => {}
            RunStatus::Running => {
                return Err(EngineError::Config(format!(
                    "run {id} is still training{}",
                    record
                        .pid
                        .map(|p| format!(" (process {p})"))
                        .unwrap_or_default()
                )))
            }
            RunStatus::Finished => {
                return Err(EngineError::Config(format!(
                    "run {id} has finished: there is nothing to resume"
                )))
            }
        }
        if !crate::train::checkpoint::exists(&dir.join(CHECKPOINT)) {
            return Err(EngineError::Config(format!(
                "run {id} has no checkpoint to resume from (it stopped before its first \
                 epoch ended, or it was a baseline): start a new run"
            )));
        }
        record.status = RunStatus::Running;
        record.error = None;
        record.pid = Some(std::process::id());
        let events_path = dir.join(EVENTS);
        let events = std::fs::OpenOptions::new()
            .append(true)
            .open(&events_path)
            .map_err(|e| EngineError::io(&events_path, e))?;
        let run = Run {
            record,
            dir,
            events,
        };
        run.save()?;
        Ok(run)
    }

    /// All runs, newest first. Folders without a readable `run.json` are skipped.
    pub fn list(&self) -> Result<Vec<RunRecord>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(EngineError::io(&self.root, e)),
        };
        let mut runs: Vec<RunRecord> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| read_record(&e.path().join(RECORD)).ok())
            .collect();
        runs.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(runs)
    }

    /// One run's record.
    pub fn get(&self, id: &str) -> Result<RunRecord> {
        read_record(&self.dir(id)?.join(RECORD))
    }

    /// The events a run logged, in order.
    pub fn events(&self, id: &str) -> Result<Vec<TrainEvent>> {
        let path = self.dir(id)?.join(EVENTS);
        let text = std::fs::read_to_string(&path).map_err(|e| EngineError::io(&path, e))?;
        // A crash can leave a half-written last line: keep what parses.
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// The folder holding a run's best model (Hugging Face layout).
    pub fn model_dir(&self, id: &str) -> Result<PathBuf> {
        let dir = self.dir(id)?.join(MODEL);
        crate::model::folder::recover(&dir)?;
        if dir.join("config.json").is_file() {
            Ok(dir)
        } else {
            Err(EngineError::Config(format!(
                "run {id} has no saved model (it ended before the first evaluation)"
            )))
        }
    }

    /// Copy run `id`'s model folder (Hugging Face layout) into a new folder
    /// `<parent>/dialect-<id>`, atomically: the copy appears complete or not at all.
    /// Returns the new folder.
    pub fn export(&self, id: &str, parent: &Path) -> Result<PathBuf> {
        let source = self.model_dir(id)?;
        let target = parent.join(format!("dialect-{id}"));
        if target.exists() {
            return Err(EngineError::Config(format!(
                "{} already exists: choose another folder or remove it",
                target.display()
            )));
        }
        let partial = parent.join(format!(".dialect-{id}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(|e| EngineError::io(&partial, e))?;
        let copied = copy_model_files(&source, &partial).and_then(|()| {
            std::fs::rename(&partial, &target).map_err(|e| EngineError::io(&target, e))
        });
        if copied.is_err() {
            let _ = std::fs::remove_dir_all(&partial);
        }
        copied.map(|()| target)
    }

    /// Delete a run and everything in its folder.
    pub fn delete(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        std::fs::remove_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))
    }

    fn dir(&self, id: &str) -> Result<PathBuf> {
        validate_id(id)?;
        let dir = self.root.join(id);
        if dir.join(RECORD).is_file() {
            Ok(dir)
        } else {
            Err(EngineError::Config(format!(
                "no run '{id}' in {}",
                self.root.display()
            )))
        }
    }
}

fn read_record(path: &Path) -> Result<RunRecord> {
    let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
    let mut record: RunRecord = serde_json::from_str(&text)
        .map_err(|e| EngineError::data(path, format!("is not a run record: {e}")))?;
    if record.status == RunStatus::Running && record.pid.is_some_and(|pid| !process_alive(pid)) {
        record.status = RunStatus::Interrupted;
    }
    Ok(record)
}

/// Whether process `pid` exists (Linux: /proc; elsewhere assumed alive).
fn process_alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc");
    !proc_root.join("self").exists() || proc_root.join(pid.to_string()).exists()
}

impl Run {
    /// The run's id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The training settings, with the model saved inside the run folder.
    pub fn config(&self) -> &TrainConfig {
        &self.record.config
    }

    /// The record as it stands.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Append `event` to the log; the record is rewritten when the best model changes
    /// and when the run ends.
    pub fn log(&mut self, event: &TrainEvent) -> Result<()> {
        let path = self.dir.join(EVENTS);
        let line = serde_json::to_string(event)?;
        writeln!(self.events, "{line}").map_err(|e| EngineError::io(&path, e))?;
        match event {
            TrainEvent::CheckpointSaved { epoch, value, .. } => {
                self.record.best = Some((*epoch, *value))
            }
            TrainEvent::Finished { summary } => {
                self.end(RunStatus::Finished, Some(summary.clone()), None)
            }
            TrainEvent::Cancelled { summary, .. } => {
                self.end(RunStatus::Cancelled, Some(summary.clone()), None)
            }
            TrainEvent::Failed { message } => {
                self.end(RunStatus::Failed, None, Some(message.clone()))
            }
            _ => return Ok(()),
        }
        self.events
            .sync_data()
            .map_err(|e| EngineError::io(&path, e))?;
        self.save()
    }

    fn end(&mut self, status: RunStatus, summary: Option<RunSummary>, error: Option<String>) {
        self.record.status = status;
        self.record.summary = summary;
        self.record.error = error;
    }

    fn save(&self) -> Result<()> {
        write_atomic(
            &self.dir.join(RECORD),
            serde_json::to_string_pretty(&self.record)?.as_bytes(),
        )
    }
}

/// `YYYYMMDD-HHMMSS` (UTC) for `secs` since the epoch.
fn timestamp_id(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::TextSpec;

    fn spec() -> DataSpec {
        DataSpec {
            path: "tickets.csv".into(),
            text: TextSpec::column("text"),
            label_column: "label".into(),
            label_map: None,
            validation: None,
            max_rows: None,
        }
    }

    #[test]
    fn ids_are_dates_and_paths_cannot_escape() {
        assert_eq!(timestamp_id(0), "19700101-000000");
        assert_eq!(timestamp_id(1_795_737_599), "20261126-235959");
        assert_eq!(timestamp_id(951_782_400), "20000229-000000");
        for bad in ["", "../etc", "a/b", "x y", ".."] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
        assert!(validate_id("20261127-055900-2").is_ok());
    }

    #[test]
    fn records_lists_and_deletes_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        assert!(store.list().unwrap().is_empty());
        let mut a = store.create(&TrainConfig::default(), &spec()).unwrap();
        let b = store.create(&TrainConfig::default(), &spec()).unwrap();
        assert_ne!(a.id(), b.id());
        assert!(a
            .config()
            .output_dir
            .starts_with(dir.path().join("runs").join(a.id())));
        a.log(&TrainEvent::Failed {
            message: "boom".into(),
        })
        .unwrap();
        let got = store.get(a.id()).unwrap();
        assert_eq!(
            (got.status, got.error.as_deref()),
            (RunStatus::Failed, Some("boom"))
        );
        assert_eq!(store.events(a.id()).unwrap().len(), 1);
        assert_eq!(store.list().unwrap().len(), 2);
        assert!(store
            .model_dir(a.id())
            .unwrap_err()
            .to_string()
            .contains("no saved model"));
        assert_eq!(store.get(b.id()).unwrap().status, RunStatus::Running);
        // A run whose process is gone reads as interrupted.
        let path = store.root().join(b.id()).join(RECORD);
        let mut stale = store.get(b.id()).unwrap();
        stale.pid = Some(u32::MAX);
        std::fs::write(&path, serde_json::to_string(&stale).unwrap()).unwrap();
        if Path::new("/proc/self").exists() {
            assert_eq!(store.get(b.id()).unwrap().status, RunStatus::Interrupted);
        }
        store.delete(b.id()).unwrap();
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(store.get("../runs").is_err());
        assert!(store
            .get("nope")
            .unwrap_err()
            .to_string()
            .contains("no run 'nope'"));
    }
}
