//! Fingerprints of a run's data, taken when the run starts: SHA-256 of the data file,
//! of the separate validation file and of the label map, and the identity of every
//! validation row (its line and a hash of its text and label). A later review checks
//! them, so it scores exactly the rows the run was validated on or says why it cannot.

use crate::dataset::{Example, LabelMap};
use crate::error::{EngineError, Result};
use crate::train::DataSpec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Content hashes of a run's inputs, as recorded in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DataFingerprint {
    /// SHA-256 (hex) of the data file's bytes.
    pub data_sha256: String,
    /// SHA-256 of the separate validation file, when the run had one.
    pub validation_sha256: Option<String>,
    /// SHA-256 of the label map (its JSON), when the run had one.
    pub label_map_sha256: Option<String>,
    /// How many validation rows the run was scored on (listed in the run folder).
    pub validation_rows: usize,
}

/// One validation row: the line where it starts in the file that holds it, and the
/// first 16 hex digits of the SHA-256 of its text and label. Serialised as
/// `[line, "hash"]` to keep long lists small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowId(pub usize, pub String);

impl RowId {
    /// The identity of `example`.
    pub fn of(example: &Example) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(example.text.as_bytes());
        hasher.update([0u8]);
        hasher.update(example.label.as_bytes());
        Self(example.line, hex(&hasher.finalize()[..8]))
    }

    /// The line where the row starts.
    pub fn line(&self) -> usize {
        self.0
    }
}

impl DataFingerprint {
    /// Fingerprint `spec`'s files as they are now, with `validation` the rows the run
    /// is scored on. Returns the fingerprint and the rows' identities.
    pub fn take(spec: &DataSpec, validation: &[Example]) -> Result<(Self, Vec<RowId>)> {
        let fingerprint = Self {
            data_sha256: file_sha256(&spec.path)?,
            validation_sha256: spec.validation.as_deref().map(file_sha256).transpose()?,
            label_map_sha256: spec.label_map.as_ref().map(label_map_sha256).transpose()?,
            validation_rows: validation.len(),
        };
        Ok((fingerprint, validation.iter().map(RowId::of).collect()))
    }
}

/// SHA-256 (hex) of the file at `path`, read in chunks.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| EngineError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 (hex) of `map`'s JSON (its mapping is sorted, so the JSON is canonical).
pub fn label_map_sha256(map: &LabelMap) -> Result<String> {
    Ok(hex(&Sha256::digest(serde_json::to_vec(map)?)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(line: usize, text: &str, label: &str) -> Example {
        Example {
            text: text.into(),
            label: label.into(),
            line,
            labels: None,
        }
    }

    #[test]
    fn file_hash_is_sha256_and_rows_hash_text_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            file_sha256(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(file_sha256(&dir.path().join("gone.csv"))
            .unwrap_err()
            .to_string()
            .contains("gone.csv"));
        let a = RowId::of(&example(2, "refund please", "billing"));
        assert_eq!((a.line(), a.1.len()), (2, 16));
        assert_eq!(a, RowId::of(&example(2, "refund please", "billing")));
        assert_ne!(a, RowId::of(&example(2, "refund please", "bug")));
        assert_ne!(a, RowId::of(&example(2, "refund pleas", "ebilling")));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("[2,\"{}\"]", a.1)
        );
    }
}
