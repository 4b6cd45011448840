//! Multi-label tickets on the command line: inspect sniffs the separator, train on
//! label sets, `runs show` gives the label-set metrics, predict prints each label's
//! probability and threshold, and `predict --input` writes the sets.

mod common;

use common::{dialect, listed_runs, stdout_json};
use predicates::prelude::*;

#[test]
fn inspect_sniffs_the_separator_and_counts_each_label() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 4);
    dialect()
        .args(["inspect", csv.to_str().unwrap(), "--text-column", "text"])
        .args(["--label-column", "labels", "--label-separator", "auto"])
        .assert()
        .success()
        .stdout(predicate::str::contains("label cells split by ';'").and(
            predicate::str::contains("label values (3): bug 8, question 8, feature 4"),
        ));
    let assert = dialect()
        .args([
            "inspect",
            csv.to_str().unwrap(),
            "--json",
            "--text-column",
            "text",
        ])
        .args(["--label-columns", "bug,feature,question"])
        .assert()
        .success();
    let json = stdout_json(&assert);
    assert_eq!(json["rowsUsed"], 16);
    let counts = json["report"]["classCounts"].as_array().unwrap();
    assert!(
        counts.contains(&serde_json::json!(["question", 8])),
        "{counts:?}"
    );
    dialect()
        .args(["inspect", csv.to_str().unwrap(), "--label-separator", "/"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("label separator '/'"));
}

#[test]
fn trains_on_label_sets_and_predicts_them() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 8);
    let runs = work.path().join("runs");
    let model = work.path().join("model");
    dialect()
        .args(["train", csv.to_str().unwrap(), "--label-column", "labels"])
        .args(["--label-separator", "auto", "--model"])
        .arg(common::tiny_model("bert"))
        .args(["--epochs", "3", "--lr", "1e-3", "--batch-size", "8"])
        .args([
            "--max-length",
            "32",
            "--device",
            "cpu",
            "--validation-fraction",
            "0.25",
        ])
        .args([
            "--runs-dir",
            runs.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("thresholds tuned per label")
                .and(predicate::str::contains("val loss  subset acc")),
        );
    let list = listed_runs(&runs);
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["data"]["labelForm"]["kind"], "separated");
    dialect()
        .args(["runs", "show", &id, "--runs-dir", runs.to_str().unwrap()])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("subset accuracy")
                .and(predicate::str::contains("micro-F1"))
                .and(predicate::str::contains(
                    "validation with each label's tuned threshold",
                ))
                .and(predicate::str::contains("threshold")),
        );

    // The run's review re-reads its validation rows as label sets; the features that
    // score one class per ticket say so.
    let runs_dir = ["--runs-dir", runs.to_str().unwrap()];
    dialect()
        .args(["runs", "review", &id])
        .args(runs_dir)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("validation rows verified")
                .and(predicate::str::contains("subset accuracy")),
        );
    for refused in [
        vec!["runs", "diff", &id, &id],
        vec!["runs", "threshold", &id, "0.9"],
    ] {
        dialect()
            .args(&refused)
            .args(runs_dir)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("multi-label"));
    }

    // One ticket: the set and every label's probability with its threshold.
    let assert = dialect()
        .args([
            "predict",
            model.to_str().unwrap(),
            "sync crashes every time",
        ])
        .args(["--json", "--device", "cpu"])
        .assert()
        .success();
    let preds = stdout_json(&assert);
    let p = &preds[0];
    let set: Vec<&str> = p["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let scores = p["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 3);
    for s in scores {
        let (prob, threshold) = (
            s["probability"].as_f64().unwrap(),
            s["threshold"].as_f64().unwrap(),
        );
        let label = s["label"].as_str().unwrap();
        assert_eq!(set.contains(&label), prob >= threshold, "{p}");
    }
    dialect()
        .args([
            "predict",
            model.to_str().unwrap(),
            "sync crashes every time",
        ])
        .args(["--device", "cpu"])
        .assert()
        .success()
        .stdout(predicate::str::contains("probability/threshold: bug "));
    dialect()
        .args([
            "predict",
            model.to_str().unwrap(),
            "crash",
            "--threshold",
            "0.9",
        ])
        .args(["--device", "cpu"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("multi-label"));

    // A file: the set joined by ';' and one probability column per label.
    let out = work.path().join("out.csv");
    dialect()
        .args([
            "predict",
            model.to_str().unwrap(),
            "--device",
            "cpu",
            "--input",
        ])
        .arg(&csv)
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        &header[5..],
        [
            "predicted_labels",
            "prob_bug",
            "prob_feature",
            "prob_question"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 32);
    let first = &rows[0];
    let probs: Vec<f64> = (6..9).map(|i| first[i].parse().unwrap()).collect();
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
    let listed: Vec<&str> = first[5].split(';').filter(|l| !l.is_empty()).collect();
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("dialect.json")).unwrap())
            .unwrap();
    let thresholds = card["multiLabel"]["thresholds"].as_array().unwrap();
    for (i, label) in ["bug", "feature", "question"].iter().enumerate() {
        let on = probs[i] >= thresholds[i].as_f64().unwrap() - 1e-6;
        assert_eq!(listed.contains(label), on, "{first:?} {thresholds:?}");
    }

    // Evaluate reads the sets the same way and reports the label-set metrics.
    dialect()
        .args(["evaluate", model.to_str().unwrap(), csv.to_str().unwrap()])
        .args([
            "--label-column",
            "labels",
            "--label-separator",
            ";",
            "--device",
            "cpu",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("subset accuracy").and(predicate::str::contains("tp")));
}
