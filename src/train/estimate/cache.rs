//! The measurements kept between estimates: one small JSON file (the app and the CLI
//! keep it beside the run store, [`super::ESTIMATES_FILE`]) holding measurements per
//! device, model and precision, the newest first: one for each range of batch work
//! measured (short rows and long rows time differently per token).

use super::measure::{Key, Measured};
use crate::atomic::write_atomic;
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file's layout version; a file of another version is measured over.
const VERSION: u32 = 1;
/// Measurements kept (the oldest beyond this are dropped).
const KEPT: usize = 32;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    version: u32,
    measurements: Vec<Measured>,
}

/// The measurements in `path`; none when it is missing, unreadable or of another
/// version (it is then rewritten by the next measurement).
fn read(path: &Path) -> CacheFile {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .filter(|file| file.version == VERSION)
        .unwrap_or_default()
}

/// The newest measurement of `key` kept in `path` that `fits`, if any.
pub(super) fn find(path: &Path, key: &Key, fits: impl Fn(&Measured) -> bool) -> Option<Measured> {
    read(path)
        .measurements
        .into_iter()
        .find(|m| &m.key == key && fits(m))
}

/// Keep `measured` in `path` (atomically), in place of older ones of its key whose
/// batches it covers.
pub(super) fn store(path: &Path, measured: &Measured) -> Result<()> {
    let mut file = read(path);
    file.version = VERSION;
    file.measurements
        .retain(|m| m.key != measured.key || !measured.covers(m.typical_work()));
    file.measurements.insert(0, measured.clone());
    file.measurements.truncate(KEPT);
    let bytes = serde_json::to_vec_pretty(&file).map_err(EngineError::Json)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::estimate::measure::tests::measured;

    #[test]
    fn a_measurement_is_found_by_its_key_and_replaced_by_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("estimates.json");
        let any = |_: &Measured| true;
        let (a, b) = (measured("cpu A", "m1"), measured("cpu A", "m2"));
        assert!(find(&path, &a.key, any).is_none());
        store(&path, &a).unwrap();
        store(&path, &b).unwrap();
        assert_eq!(find(&path, &a.key, any), Some(a.clone()));
        let newer = Measured {
            measured_at: a.measured_at + 60,
            ..a.clone()
        };
        store(&path, &newer).unwrap();
        assert_eq!(find(&path, &a.key, any), Some(newer.clone()));
        assert_eq!(read(&path).measurements.len(), 2);
        assert!(find(&path, &measured("cpu B", "m1").key, any).is_none());
        // Longer rows: kept beside the short rows' measurement, each found for its runs.
        let long = Measured {
            timed_work: (8000.0, 40_000.0),
            ..a.clone()
        };
        store(&path, &long).unwrap();
        assert_eq!(read(&path).measurements.len(), 3);
        assert_eq!(find(&path, &a.key, |m| m.covers(1000.0)), Some(newer));
        assert_eq!(find(&path, &a.key, |m| m.covers(20_000.0)), Some(long));
        assert!(find(&path, &a.key, |m| m.covers(1e6)).is_none());
        // A damaged file is measured over, not an error.
        std::fs::write(&path, "{ not json").unwrap();
        assert!(find(&path, &a.key, any).is_none());
        store(&path, &a).unwrap();
        assert_eq!(find(&path, &a.key, any), Some(a));
    }
}
