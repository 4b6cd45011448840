//! The run store: every training run in its own folder,
//! `<root>/<id>/{run.json, events.jsonl, validation-rows.json, run.lock, model/}`, so
//! past runs can be listed, opened, tried, exported and deleted. Run ids are validated:
//! no path can escape the root.
//!
//! A run holds an OS lock on its `run.lock` while it trains (released when it ends or
//! its process dies), so any process can tell a live run from an interrupted one, and
//! none deletes a run another is training.

use crate::atomic::write_atomic;
use crate::dataset::Example;
use crate::error::{EngineError, Result};
use crate::events::{RunSummary, TrainEvent};
use crate::fingerprint::{DataFingerprint, RowId};
use crate::model::folder::copy_model_files;
use crate::settings::TrainConfig;
use crate::train::DataSpec;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    Running,
    Finished,
    Cancelled,
    Failed,
    /// Recorded as running, but no process holds its lock (crash, kill, power loss).
    Interrupted,
}

/// What `run.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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
    /// The process recording the run (named when another process would disturb it).
    #[serde(default)]
    pub pid: Option<u32>,
    /// The data's fingerprint when the run started; `None` for runs recorded before
    /// Dialect took one (their validation rows cannot be verified).
    #[serde(default)]
    pub fingerprint: Option<DataFingerprint>,
    /// Whether the run can be resumed: it ended unfinished and holds the checkpoint of
    /// a completed epoch. Worked out whenever the record is read (`read_record`
    /// replaces a stored value).
    #[serde(default)]
    pub resumable: bool,
    /// The run this one retrains (same settings, with corrections), if any.
    #[serde(default)]
    pub parent: Option<String>,
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
    events: File,
    /// `run.lock`, locked until the run ends.
    lock: Option<File>,
}

const RECORD: &str = "run.json";
const EVENTS: &str = "events.jsonl";
const VALIDATION_ROWS: &str = "validation-rows.json";
const LOCK: &str = "run.lock";
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

    /// The store the app and the CLI share: `$DIALECT_HOME/runs`, else `dialect/runs`
    /// in the platform's data folder: `$XDG_DATA_HOME` or `~/.local/share` (Linux and
    /// other Unixes), `~/Library/Application Support` (macOS), `%LOCALAPPDATA%` (Windows).
    pub fn default_root() -> PathBuf {
        default_root_from(|name| std::env::var_os(name), cfg!(target_os = "macos"))
    }

    /// The store at `explicit` when given (a `--runs-dir`), else the shared one
    /// ([`RunStore::default_root`]); absolute, so runs recorded in it name their files
    /// from any working folder.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self> {
        let root = explicit.unwrap_or_else(Self::default_root);
        let root = std::path::absolute(&root).map_err(|e| EngineError::io(&root, e))?;
        Ok(Self::new(root))
    }

    /// The folder beside the store where the app keeps each data file's corrections.
    pub fn corrections_dir(&self) -> PathBuf {
        self.root.with_file_name("corrections")
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Start recording a run of `config` on `data`, scored on the rows `validation`:
    /// fingerprints the data files and lists the validation rows, so a later review can
    /// prove it scores the same rows. The returned run holds the run's lock until it
    /// ends; its config saves the model, and the checkpoints a resume needs, inside the
    /// run folder.
    pub fn create(
        &self,
        config: &TrainConfig,
        data: &DataSpec,
        validation: &[Example],
    ) -> Result<Run> {
        let (fingerprint, rows) = DataFingerprint::take(data, validation)?;
        // Recorded absolute, so reviews and resumes find the files from any folder.
        let mut data = data.clone();
        for path in std::iter::once(&mut data.path).chain(data.validation.as_mut()) {
            *path = std::path::absolute(&*path).map_err(|e| EngineError::io(&*path, e))?;
        }
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
        let lock = new_lock(&dir)?;
        let rows_path = dir.join(VALIDATION_ROWS);
        write_atomic(&rows_path, serde_json::to_string(&rows)?.as_bytes())?;
        let mut config = config.clone();
        config.output_dir = dir.join(MODEL);
        config.checkpoint_dir = Some(dir.join(CHECKPOINT));
        let record = RunRecord {
            id,
            created_at: now,
            status: RunStatus::Running,
            config,
            data,
            summary: None,
            best: None,
            error: None,
            pid: Some(std::process::id()),
            fingerprint: Some(fingerprint),
            resumable: false,
            parent: None,
        };
        let events_path = dir.join(EVENTS);
        let events = File::create(&events_path).map_err(|e| EngineError::io(&events_path, e))?;
        Run::begin(record, dir, events, lock)
    }

    /// Reopen run `id` to resume it: it must have ended without finishing (cancelled,
    /// failed or interrupted) and still hold its checkpoint. Its record reads as
    /// running again, and new events are appended to its log.
    pub fn reopen(&self, id: &str) -> Result<Run> {
        let dir = self.dir(id)?;
        let mut record = read_record(&dir.join(RECORD))?;
        match record.status {
            RunStatus::Running => {
                return Err(EngineError::RunInUse {
                    id: id.to_string(),
                    pid: record.pid,
                })
            }
            RunStatus::Finished => {
                return Err(EngineError::Config(format!(
                    "run {id} has finished: there is nothing to resume"
                )))
            }
            _ if !record.resumable => {
                return Err(EngineError::Config(format!(
                    "run {id} has no checkpoint to resume from (it stopped before its first \
                     epoch ended, or it was a baseline): start a new run"
                )))
            }
            _ => {}
        }
        let lock = match take_lock(&dir)? {
            Taken::Free(Some(lock)) => lock,
            Taken::Free(None) => new_lock(&dir)?,
            Taken::Held => {
                return Err(EngineError::RunInUse {
                    id: id.to_string(),
                    pid: None,
                })
            }
        };
        record.status = RunStatus::Running;
        record.error = None;
        record.pid = Some(std::process::id());
        let events_path = dir.join(EVENTS);
        let events = std::fs::OpenOptions::new()
            .append(true)
            .open(&events_path)
            .map_err(|e| EngineError::io(&events_path, e))?;
        Run::begin(record, dir, events, lock)
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

    /// The validation rows run `id` was scored on, as listed when it started (empty
    /// for runs recorded before Dialect listed them).
    pub fn validation_rows(&self, id: &str) -> Result<Vec<RowId>> {
        let path = self.dir(id)?.join(VALIDATION_ROWS);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| EngineError::data(&path, format!("is not a list of rows: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(EngineError::io(&path, e)),
        }
    }

    /// The folder holding a run's best model (Hugging Face layout).
    pub fn model_dir(&self, id: &str) -> Result<PathBuf> {
        let dir = crate::model::folder::readable(&self.dir(id)?.join(MODEL));
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

    /// Delete a run and everything in its folder; refused while a process (this one
    /// or another) trains it.
    pub fn delete(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        // Held while deleting, so the run cannot be taken up meanwhile.
        let _lock = match take_lock(&dir)? {
            Taken::Free(lock) => lock,
            Taken::Held => {
                return Err(EngineError::RunInUse {
                    id: id.to_string(),
                    pid: read_record(&dir.join(RECORD)).ok().and_then(|r| r.pid),
                })
            }
        };
        std::fs::remove_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))
    }

    /// Move the runs kept in `legacy` (the app's own folder before the app and the CLI
    /// shared a store) into this store; runs that are training, already here, or on
    /// another disk stay. Returns how many moved.
    pub fn adopt(&self, legacy: &Path) -> Result<usize> {
        let Ok(entries) = std::fs::read_dir(legacy) else {
            return Ok(0);
        };
        std::fs::create_dir_all(&self.root).map_err(|e| EngineError::io(&self.root, e))?;
        let mut moved = 0;
        for entry in entries.filter_map(|e| e.ok()) {
            let from = entry.path();
            let name = entry.file_name();
            let Some(id) = name.to_str().filter(|id| validate_id(id).is_ok()) else {
                continue;
            };
            let to = self.root.join(id);
            if !from.join(RECORD).is_file() || to.exists() {
                continue;
            }
            if matches!(take_lock(&from), Ok(Taken::Free(_))) && std::fs::rename(&from, &to).is_ok()
            {
                moved += 1;
            }
        }
        // Gone once empty.
        let _ = std::fs::remove_dir(legacy);
        Ok(moved)
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

/// `$DIALECT_HOME/runs`, else `dialect/runs` in the platform's data folder (`macos`:
/// the macOS one), with `var` reading the environment.
fn default_root_from(var: impl Fn(&str) -> Option<OsString>, macos: bool) -> PathBuf {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = var("DIALECT_HOME") {
        return home.join("runs");
    }
    let data = if cfg!(windows) {
        var("LOCALAPPDATA").or_else(|| var("APPDATA"))
    } else if macos {
        var("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        var("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".local/share")))
    };
    data.unwrap_or_else(|| PathBuf::from("."))
        .join("dialect")
        .join("runs")
}

/// Whether a run's lock could be taken.
enum Taken {
    /// Nobody trains the run: here is its lock (`None` for runs without a lock file).
    Free(Option<File>),
    /// A live process trains it.
    Held,
}

/// Create the lock file of the run in `dir` (which nobody else uses yet) and take it.
fn new_lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK);
    let lock = File::create(&path).map_err(|e| EngineError::io(&path, e))?;
    lock.try_lock().map_err(|e| {
        EngineError::io(
            &path,
            std::io::Error::other(format!("cannot lock the run: {e}")),
        )
    })?;
    Ok(lock)
}

/// Try to take the lock of the run in `dir` without waiting.
fn take_lock(dir: &Path) -> Result<Taken> {
    let path = dir.join(LOCK);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Taken::Free(None)),
        Err(e) => return Err(EngineError::io(&path, e)),
    };
    match file.try_lock() {
        Ok(()) => Ok(Taken::Free(Some(file))),
        Err(TryLockError::WouldBlock) => Ok(Taken::Held),
        Err(TryLockError::Error(e)) => Err(EngineError::io(&path, e)),
    }
}

fn read_record(path: &Path) -> Result<RunRecord> {
    let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
    let not_a_record = |e| EngineError::data(path, format!("is not a run record: {e}"));
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(not_a_record)?;
    upgrade_split(&mut value);
    let mut record: RunRecord = serde_json::from_value(value).map_err(not_a_record)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if record.status == RunStatus::Running {
        // A lock that cannot be checked counts as held: never call a live run dead.
        if matches!(take_lock(dir), Ok(Taken::Free(_))) {
            record.status = RunStatus::Interrupted;
        }
    }
    record.resumable = matches!(
        record.status,
        RunStatus::Cancelled | RunStatus::Failed | RunStatus::Interrupted
    ) && crate::train::checkpoint::exists(&dir.join(CHECKPOINT));
    Ok(record)
}

/// Records written before the split settings moved into the data spec kept the
/// validation fraction and the seed (split and training alike) in the config and
/// `maxRows` in the data: move them into `data.split`, so old runs resume, review and
/// compare on the rows they were scored on.
fn upgrade_split(record: &mut serde_json::Value) {
    let Some(data) = record.get("data").and_then(|d| d.as_object()) else {
        return;
    };
    if data.contains_key("split") {
        return;
    }
    let config = record.get("config");
    let legacy = |key: &str| config.and_then(|c| c.get(key)).cloned();
    let defaults = crate::settings::SplitPlan::default();
    let split = serde_json::json!({
        "validationFraction": legacy("validationFraction").unwrap_or(defaults.validation_fraction.into()),
        "seed": legacy("seed").unwrap_or(defaults.seed.into()),
        "maxRows": data.get("maxRows").cloned().unwrap_or(serde_json::Value::Null),
    });
    if let Some(data) = record.get_mut("data").and_then(|d| d.as_object_mut()) {
        data.remove("maxRows");
        data.insert("split".into(), split);
    }
}

impl Run {
    /// A run recording into `dir` (holding its `lock`), with `record` written.
    fn begin(record: RunRecord, dir: PathBuf, events: File, lock: File) -> Result<Self> {
        let run = Run {
            record,
            dir,
            events,
            lock: Some(lock),
        };
        run.save()?;
        Ok(run)
    }

    /// The run's training rows read again to resume it: the same file, mapping, sample
    /// and split. Refused when the data changed since the run started (resuming would
    /// train on other rows).
    pub fn reload_data(&self) -> Result<crate::train::TrainData> {
        let spec = &self.record.data;
        let loaded = spec.load(true)?;
        if let Some(recorded) = &self.record.fingerprint {
            let (now, _) = DataFingerprint::take(spec, &loaded.data.validation)?;
            if &now != recorded {
                return Err(EngineError::DataChanged {
                    path: spec.path.clone(),
                    message: format!(
                        "the data (or its label map) changed since run {} started, so \
                         resuming would train on other rows: start a new run",
                        self.record.id
                    ),
                });
            }
        }
        Ok(loaded.data)
    }

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
        self.save()?;
        if self.record.status != RunStatus::Running {
            // Recorded as ended: nobody trains it any more.
            self.lock = None;
        }
        Ok(())
    }

    fn end(&mut self, status: RunStatus, summary: Option<RunSummary>, error: Option<String>) {
        self.record.status = status;
        self.record.summary = summary;
        self.record.error = error;
    }

    /// Record that this run retrains run `parent`.
    pub fn set_parent(&mut self, parent: Option<String>) -> Result<()> {
        self.record.parent = parent;
        self.save()
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

    /// A spec over a real file in `dir`, and its validation rows.
    fn spec(dir: &Path) -> (DataSpec, Vec<Example>) {
        let path = dir.join("tickets.csv");
        std::fs::write(&path, "text,label\nrefund,billing\ncrash,bug\n").unwrap();
        let spec = DataSpec {
            validation_corrections: None,
            drop_overlap: false,
            corrections: None,
            path,
            text: TextSpec::column("text"),
            label_column: "label".into(),
            label_form: crate::dataset::LabelForm::Single,
            label_map: None,
            validation: None,
            split: crate::settings::SplitPlan::default(),
        };
        let rows = vec![Example {
            text: "crash".into(),
            label: "bug".into(),
            line: 3,
            labels: None,
        }];
        (spec, rows)
    }

    #[test]
    fn a_record_from_before_the_split_moved_keeps_its_split() {
        let mut old = serde_json::json!({
            "config": { "validationFraction": 0.25, "seed": 7, "epochs": 3 },
            "data": { "path": "t.csv", "maxRows": 500 },
        });
        upgrade_split(&mut old);
        assert_eq!(
            old["data"]["split"],
            serde_json::json!({ "validationFraction": 0.25, "seed": 7, "maxRows": 500 })
        );
        assert!(old["data"].get("maxRows").is_none());
        // A current record is left as it is.
        let current = old.clone();
        upgrade_split(&mut old);
        assert_eq!(old, current);
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
        let (spec, rows) = spec(dir.path());
        let store = RunStore::new(dir.path().join("runs"));
        assert!(store.list().unwrap().is_empty());
        let mut a = store.create(&TrainConfig::default(), &spec, &rows).unwrap();
        let b = store.create(&TrainConfig::default(), &spec, &rows).unwrap();
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
        // An ended run has let go of its lock even while its `Run` lives.
        store.delete(a.id()).unwrap();
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(store.get("../runs").is_err());
        assert!(store
            .get("nope")
            .unwrap_err()
            .to_string()
            .contains("no run 'nope'"));
    }

    #[test]
    fn a_training_run_is_locked_and_reads_as_interrupted_once_its_lock_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, rows) = spec(dir.path());
        let store = RunStore::new(dir.path().join("runs"));
        let run = store.create(&TrainConfig::default(), &spec, &rows).unwrap();
        let id = run.id().to_string();
        // The lock is per open file: another handle (as another process would have)
        // cannot take it, so the run cannot be deleted under the trainer.
        let err = store.delete(&id).unwrap_err();
        assert!(matches!(
            &err,
            EngineError::RunInUse { id: i, pid: Some(p) } if *i == id && *p == std::process::id()
        ));
        assert!(err
            .to_string()
            .contains(&format!("(pid {})", std::process::id())));
        assert_eq!(store.get(&id).unwrap().status, RunStatus::Running);
        // The process is alive but no longer holds the lock (as after a crash of the
        // training job): the run was interrupted.
        drop(run);
        assert_eq!(store.get(&id).unwrap().status, RunStatus::Interrupted);
        store.delete(&id).unwrap();
        // A run recorded before run locks existed reads as interrupted too.
        let run = store.create(&TrainConfig::default(), &spec, &rows).unwrap();
        let old = store.root().join(run.id());
        drop(run);
        std::fs::remove_file(old.join(LOCK)).unwrap();
        assert_eq!(store.list().unwrap()[0].status, RunStatus::Interrupted);
    }

    #[test]
    fn data_paths_are_recorded_absolute() {
        let dir = tempfile::tempdir().unwrap();
        // Unit tests run in the package folder, where the sample lies.
        let spec = DataSpec {
            corrections: None,
            path: PathBuf::from("samples/banking77.csv"),
            ..spec(dir.path()).0
        };
        let store = RunStore::new(dir.path().join("runs"));
        let run = store.create(&TrainConfig::default(), &spec, &[]).unwrap();
        let recorded = store.get(run.id()).unwrap().data.path;
        assert!(recorded.is_absolute(), "{}", recorded.display());
        assert!(recorded.ends_with("samples/banking77.csv"));
    }

    #[test]
    fn runs_record_a_fingerprint_and_their_validation_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, rows) = spec(dir.path());
        let store = RunStore::new(dir.path().join("runs"));
        let run = store.create(&TrainConfig::default(), &spec, &rows).unwrap();
        let fingerprint = store.get(run.id()).unwrap().fingerprint.unwrap();
        assert_eq!(
            fingerprint.data_sha256,
            crate::fingerprint::file_sha256(&spec.path).unwrap()
        );
        assert_eq!(
            (fingerprint.validation_sha256, fingerprint.label_map_sha256),
            (None, None)
        );
        assert_eq!(fingerprint.validation_rows, 1);
        assert_eq!(
            store.validation_rows(run.id()).unwrap(),
            vec![RowId::of(&rows[0])]
        );
        // A run recorded before fingerprints still loads, with none.
        let path = store.root().join(run.id()).join(RECORD);
        let mut old: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let fields = old.as_object_mut().unwrap();
        fields.remove("fingerprint");
        fields.remove("pid");
        std::fs::write(&path, old.to_string()).unwrap();
        std::fs::remove_file(store.root().join(run.id()).join(VALIDATION_ROWS)).unwrap();
        assert_eq!(store.get(run.id()).unwrap().fingerprint, None);
        assert!(store.validation_rows(run.id()).unwrap().is_empty());
    }

    #[test]
    fn adopts_the_runs_of_a_legacy_store() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, rows) = spec(dir.path());
        let legacy = RunStore::new(dir.path().join("legacy"));
        let mut done = legacy
            .create(&TrainConfig::default(), &spec, &rows)
            .unwrap();
        done.log(&TrainEvent::Failed {
            message: "x".into(),
        })
        .unwrap();
        let training = legacy
            .create(&TrainConfig::default(), &spec, &rows)
            .unwrap();
        std::fs::create_dir(legacy.root().join("not-a-run")).unwrap();
        let store = RunStore::new(dir.path().join("shared"));
        assert_eq!(store.adopt(legacy.root()).unwrap(), 1);
        assert_eq!(store.get(done.id()).unwrap().status, RunStatus::Failed);
        assert_eq!(
            legacy.get(training.id()).unwrap().status,
            RunStatus::Running
        );
        assert_eq!(store.adopt(&dir.path().join("none")).unwrap(), 0);
    }

    #[test]
    fn the_default_store_is_shared_and_follows_the_platform() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let root = |pairs, macos| default_root_from(env(pairs), macos);
        assert_eq!(
            root(&[("DIALECT_HOME", "/d"), ("HOME", "/h")], false),
            PathBuf::from("/d/runs")
        );
        if cfg!(unix) {
            assert_eq!(
                root(&[("HOME", "/h")], false),
                PathBuf::from("/h/.local/share/dialect/runs")
            );
            assert_eq!(
                root(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")], false),
                PathBuf::from("/x/dialect/runs")
            );
            assert_eq!(
                root(&[("HOME", "/h"), ("XDG_DATA_HOME", "rel")], false),
                PathBuf::from("/h/.local/share/dialect/runs")
            );
            assert_eq!(
                root(&[("HOME", "/h"), ("DIALECT_HOME", "")], true),
                PathBuf::from("/h/Library/Application Support/dialect/runs")
            );
        }
    }
}
