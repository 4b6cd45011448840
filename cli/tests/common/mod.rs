//! What the CLI tests share: the engine tests' fixtures (`tests/common`), and the
//! `dialect` binary run with no hub and a home of its own.
#![allow(dead_code)]

#[path = "../../../tests/common/mod.rs"]
mod engine;

pub use engine::*;

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use std::path::Path;

/// The CLI with no hub and its home (run store, measurements) in `home`.
pub fn dialect_in(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dialect").unwrap();
    cmd.env("HF_HUB_OFFLINE", "1").env("DIALECT_HOME", home);
    cmd
}

/// The CLI with no hub, and its default run store in a folder of this test process
/// (never the user's).
pub fn dialect() -> Command {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    dialect_in(HOME.get_or_init(|| tempfile::tempdir().unwrap()).path())
}

/// What a successful `--json` invocation printed on stdout.
pub fn stdout_json(assert: &Assert) -> serde_json::Value {
    serde_json::from_slice(&assert.get_output().stdout).unwrap()
}

/// `dialect runs --json` of the store `runs`: its runs, newest first.
pub fn listed_runs(runs: &Path) -> serde_json::Value {
    stdout_json(
        &dialect()
            .args(["runs", "--json", "--runs-dir"])
            .arg(runs)
            .assert()
            .success(),
    )
}
