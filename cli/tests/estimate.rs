//! `dialect train --estimate` and `--fit-in` with the tiny model: measured once, then
//! reused; nothing trained or recorded.

mod common;

use common::{dialect_in, stdout_json};
use std::path::Path;

fn json(home: &Path, csv: &Path, extra: &[&str]) -> serde_json::Value {
    let model = common::tiny_model("distilbert");
    let assert = dialect_in(home)
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(&model)
        .args(["--device", "cpu", "--max-length", "32", "--epochs", "2"])
        .args(["--validation-fraction", "0.2", "--json"])
        .args(extra)
        .assert()
        .success();
    stdout_json(&assert)
}

#[test]
fn an_estimate_is_measured_once_then_reused_and_trains_nothing() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let csv = common::tiny_csv(work.path(), 20);

    let first = json(&home, &csv, &["--estimate"]);
    let e = &first["estimate"];
    assert_eq!(e["measurement"]["reused"], false);
    assert_eq!(
        (e["trainRows"].as_u64(), e["validationRows"].as_u64()),
        (Some(48), Some(12))
    );
    assert_eq!(e["epochs"], 2);
    assert_eq!(e["steps"], 2 * 3);
    let parts: f64 = e["breakdown"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let seconds = e["seconds"].as_f64().unwrap();
    assert!(seconds > 0.0 && (parts - seconds).abs() < 1e-6, "{e}");
    assert!(e["breakdown"]["checks"].as_f64().unwrap() > 0.0, "{e}");
    assert!(e["memory"]["peakBytes"].as_u64().unwrap() > 0, "{e}");
    assert!(first["fit"].is_null());
    assert!(home.join("estimates.json").is_file());
    assert!(!home.join("runs").exists(), "an estimate records no run");

    let again = json(&home, &csv, &["--estimate"]);
    let info = &again["estimate"]["measurement"];
    assert_eq!(info["reused"], true);
    assert_eq!(info["measuredAt"], e["measurement"]["measuredAt"]);
    let fresh = json(&home, &csv, &["--estimate", "--remeasure"]);
    assert_eq!(fresh["estimate"]["measurement"]["reused"], false);

    // The tiny model fits the largest preset in an hour.
    let fit = json(&home, &csv, &["--fit-in", "60"]);
    assert_eq!(fit["fit"]["fits"], true);
    assert_eq!(fit["fit"]["preset"], "thorough");
    assert_eq!(fit["fit"]["estimate"]["epochs"], 5);
}

#[test]
fn the_estimate_reads_as_a_breakdown_and_a_memory_verdict() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let model = common::tiny_model("bert");
    let assert = dialect_in(&work.path().join("home"))
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(&model)
        .args(["--device", "cpu", "--estimate", "--fit-in", "30"])
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for expected in [
        "Estimate:",
        "training",
        "Memory: peak about",
        "Measured on",
        "Fits in 30 min: the Thorough preset",
    ] {
        assert!(out.contains(expected), "{expected:?} not in:\n{out}");
    }
    dialect_in(&work.path().join("home"))
        .args(["train", "--resume", "x", "--estimate"])
        .assert()
        .code(2);
}
