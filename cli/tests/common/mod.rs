//! What the CLI tests share: the engine tests' fixtures (`tests/common`), and the
//! `dialect` binary run with no hub and a home of its own.
#![allow(dead_code)]

#[path = "../../../tests/common/mod.rs"]
mod engine;

// Not every suite uses the engine fixtures directly.
#[allow(unused_imports)]
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

/// Train a one-epoch run of the tiny BERT on a 10-row CSV written into `dir`, with the
/// CLI's home in `home` and runs in `runs`; the new run's id.
pub fn trained_tiny_run(dir: &Path, home: &Path, runs: &Path) -> String {
    let csv = engine::tiny_csv(dir, 10);
    dialect_in(home)
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(engine::tiny_model("bert"))
        .args(["--epochs", "1", "--device", "cpu", "--runs-dir"])
        .arg(runs)
        .assert()
        .success();
    listed_runs(runs)[0]["id"].as_str().unwrap().to_string()
}
