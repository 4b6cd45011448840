//! The `dialect` command line on real files: train, evaluate, predict, and its errors.

mod common;

use common::{dialect, listed_runs, stdout_json};
use predicates::prelude::*;

/// The class probabilities `dialect predict --json --device cpu` gives the model in
/// `model` for one ticket, with `extra` arguments.
fn predicted_probabilities(model: &std::path::Path, extra: &[&str]) -> Vec<f64> {
    let assert = dialect()
        .args(["predict", model.to_str().unwrap(), "please add dark mode"])
        .args(["--json", "--device", "cpu"])
        .args(extra)
        .assert()
        .success();
    let preds = stdout_json(&assert);
    preds[0]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["probability"].as_f64().unwrap())
        .collect()
}

#[test]
fn train_eval_predict_on_real_files() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 20);
    let out = work.path().join("model");
    let model = common::tiny_model("distilbert");

    let assert = dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ])
        .args([
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "6",
            "--batch-size",
            "8",
        ])
        .args([
            "--lr",
            "1e-3",
            "--max-length",
            "32",
            "--device",
            "cpu",
            "--validation-fraction",
            "0.2",
            "--json",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "started");
    assert_eq!(events[0]["totalSteps"], 36);
    assert_eq!(events[0]["truncatedRows"], 0);
    assert!(events
        .iter()
        .any(|e| e["type"] == "step" && e["loss"].is_number()));
    assert_eq!(
        events.iter().filter(|e| e["type"] == "evaluated").count(),
        6
    );
    assert_eq!(events.last().unwrap()["type"], "finished");
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
        "dialect.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing from the saved model");
    }

    // CPU training ends by checking int8 against f32 on the validation split, then
    // fitting the temperature there, and keeps both in the model's card.
    let last: Vec<&str> = events[events.len() - 3..]
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(last, ["int8Checked", "calibrated", "finished"]);
    let checked = &events[events.len() - 3];
    assert_eq!(events[events.len() - 2]["calibration"]["rows"], 12);
    assert_eq!(checked["check"]["rows"], 12);
    assert_eq!(checked["check"]["data"], "validation split");
    // Its f32 side is the best epoch's own evaluation.
    let best = events
        .iter()
        .rev()
        .find(|e| e["type"] == "checkpointSaved")
        .unwrap();
    assert_eq!(checked["check"]["f32Accuracy"], best["value"]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("dialect.json")).unwrap()).unwrap();
    assert_eq!(card["int8"], checked["check"]);

    // `quantize` checks again on a labelled file and replaces the card's check.
    let assert = dialect()
        .args([
            "quantize",
            out.to_str().unwrap(),
            csv.to_str().unwrap(),
            "--json",
        ])
        .assert()
        .success();
    let check = stdout_json(&assert);
    assert_eq!(check["rows"], 60);
    assert_eq!(check["data"], csv.to_str().unwrap());
    let agreement = check["agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agreement), "{check}");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("dialect.json")).unwrap()).unwrap();
    assert_eq!(card["int8"], check);

    // Either precision on request; int8's probabilities stay near f32's.
    let probabilities =
        |precision: &str| predicted_probabilities(&out, &["--precision", precision]);
    let (f32s, int8s) = (probabilities("f32"), probabilities("int8"));
    dialect()
        .args(["predict", out.to_str().unwrap(), "hi", "--device", "cpu"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "Computing in {}",
            if card["int8"]["f32Accuracy"].as_f64().unwrap()
                - card["int8"]["int8Accuracy"].as_f64().unwrap()
                <= 0.005
            {
                "int8"
            } else {
                "f32"
            }
        )));
    for (a, b) in f32s.iter().zip(&int8s) {
        assert!((a - b).abs() < 0.1, "f32 {f32s:?} vs int8 {int8s:?}");
    }
    dialect()
        .args([
            "predict",
            out.to_str().unwrap(),
            "hi",
            "--precision",
            "int4",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "unknown precision 'int4': use f32 or int8",
        ));

    dialect()
        .args([
            "evaluate",
            out.to_str().unwrap(),
            csv.to_str().unwrap(),
            "--device",
            "cpu",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("accuracy").and(predicate::str::contains("confusion matrix")),
        );

    let scores = predicted_probabilities(&out, &[]);
    assert_eq!(scores.len(), 3);
    assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-4);

    let predicted = work.path().join("predicted.csv");
    dialect()
        .args([
            "predict",
            out.to_str().unwrap(),
            "--input",
            csv.to_str().unwrap(),
            "--output",
            predicted.to_str().unwrap(),
        ])
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(&predicted).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "text",
            "label",
            "predicted_label",
            "confidence",
            "prob_bug",
            "prob_feature_request",
            "prob_general_inquiry"
        ]
    );
    assert_eq!(reader.records().count(), 60);
}

#[test]
fn missing_column_is_a_user_error_naming_the_columns() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    dialect()
        .args(["train", csv.to_str().unwrap(), "--text-column", "body"])
        .args(["--model", common::tiny_model("bert").to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no column named 'body'")
                .and(predicate::str::contains("'text'")),
        );
}

#[test]
fn usage_errors_exit_with_2_and_problems_to_fix_with_1() {
    dialect()
        .args(["train", "--no-such-option"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-option"));
    dialect().arg("frobnicate").assert().code(2);
    dialect()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 a command-line usage error; 3 an internal error",
        ));
    // A model and no texts: the engine's refusal, which the user can fix.
    dialect()
        .arg("predict")
        .arg(common::tiny_model("distilbert"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("give texts to classify"));
}

#[test]
fn train_help_shows_the_engines_names_help_and_defaults() {
    let defaults = dialect::TrainConfig::default();
    let split = dialect::settings::SplitPlan::default();
    let help = dialect().args(["train", "--help"]).assert().success();
    let out = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for (setting, default) in [
        (
            dialect::setting::Setting::Epochs,
            defaults.epochs.to_string(),
        ),
        (
            dialect::setting::Setting::BatchSize,
            defaults.batch_size.to_string(),
        ),
        (dialect::setting::Setting::SplitSeed, split.seed.to_string()),
    ] {
        assert!(flat.contains(setting.flag()), "{out}");
        let help = format!("{} [default: {default}]", setting.help());
        assert!(flat.contains(&help), "'{help}' missing from:\n{out}");
    }
}

#[test]
fn eval_still_names_evaluate() {
    dialect().arg("--help").assert().success().stdout(
        predicate::str::contains("evaluate").and(predicate::str::contains("[alias: eval]")),
    );
    dialect()
        .args(["eval", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: dialect evaluate"));
}

#[test]
fn settings_past_their_bounds_are_user_errors_naming_the_setting() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    // The engine names the setting by its label; the CLI adds its flag.
    for (flag, value, message) in [
        ("--epochs", "1000000", "Epochs: must be between 1 and 1000"),
        (
            "--batch-size",
            "99999999",
            "Batch size: must be between 1 and 1024",
        ),
        (
            "--max-length",
            "1000000000",
            "Max length: must be between 8 and 8192",
        ),
        (
            "--max-rows",
            "999999999999",
            "Use at most N rows: must be between 1 and",
        ),
    ] {
        dialect()
            .args(["train", csv.to_str().unwrap(), flag, value])
            .args(["--model", common::tiny_model("bert").to_str().unwrap()])
            .args(["--out", work.path().join("m").to_str().unwrap()])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains(format!("({flag})")));
    }
}

#[test]
fn missing_model_offline_says_where_it_looked() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    dialect()
        .env("HF_HOME", work.path().join("empty-hf-home"))
        .args([
            "train",
            csv.to_str().unwrap(),
            "--model",
            "no-such-org/no-such-model",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no-such-org/no-such-model")
                .and(predicate::str::contains("not found"))
                .and(predicate::str::contains("empty-hf-home")),
        );
}

#[test]
fn unknown_device_is_a_user_error() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    dialect()
        .args(["train", csv.to_str().unwrap(), "--device", "tpu"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown device 'tpu'"));
}

#[test]
fn bf16_without_a_capable_gpu_is_a_user_error_saying_why() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    let model = common::tiny_model("bert");
    dialect()
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(&model)
        .args(["--device", "cpu", "--precision", "bf16", "--out"])
        .arg(work.path().join("m"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("compute capability 8.0").and(predicate::str::contains("cpu")),
        );
    dialect()
        .args(["train", csv.to_str().unwrap(), "--precision", "fp8"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown precision 'fp8'"));
}

#[test]
fn missing_data_file_is_a_user_error_naming_it() {
    dialect()
        .args(["train", "/nonexistent/tickets.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent/tickets.csv"));
}

#[test]
fn hub_ids_resolve_through_the_hugging_face_cache_under_hf_home() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("hub/models--test-org--tiny-distilbert");
    let snapshot = repo.join("snapshots/0123456789abcdef0123456789abcdef01234567");
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(
        repo.join("refs/main"),
        "0123456789abcdef0123456789abcdef01234567",
    )
    .unwrap();
    for entry in std::fs::read_dir(common::tiny_model("distilbert")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), snapshot.join(entry.file_name())).unwrap();
    }
    let assert = dialect()
        .env("HF_HOME", work.path())
        .args([
            "predict",
            "test-org/tiny-distilbert",
            "please add dark mode",
            "--json",
            "--device",
            "cpu",
        ])
        .assert()
        .success();
    let preds = stdout_json(&assert);
    assert_eq!(preds[0]["scores"].as_array().unwrap().len(), 3);
}

#[test]
fn validation_file_with_an_unknown_label_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    let val = work.path().join("val.csv");
    std::fs::write(
        &val,
        "text,label\nthe app crashes,bug\nis it raining,weather\n",
    )
    .unwrap();
    dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--validation",
            val.to_str().unwrap(),
        ])
        .args([
            "--model",
            common::tiny_model("bert").to_str().unwrap(),
            "--device",
            "cpu",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("val.csv").and(predicate::str::contains("weather")));
}

#[test]
fn inspect_suggests_label_merges_and_train_uses_the_map() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("export.csv");
    let mut content = String::from("id;subject;category\n");
    let variants = [
        "Bug",
        "bug ",
        "BUG",
        "feature-request",
        "Feature Request",
        "question",
    ];
    let texts = [
        "the app crashes when i click login",
        "error after update, page is blank",
        "sync crashes every time",
        "please add dark mode",
        "would like an export option",
        "how do i reset my password",
    ];
    for i in 0..36 {
        content += &format!("{i};{} {i};{}\n", texts[i % 6], variants[i % 6]);
    }
    std::fs::write(&csv, content).unwrap();
    let map = work.path().join("map.json");
    dialect()
        .args([
            "inspect",
            csv.to_str().unwrap(),
            "--write-label-map",
            map.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("suggested: --text-column subject --label-column category")
                .and(predicate::str::contains(
                    "label variants that look like one class",
                ))
                .and(predicate::str::contains("'Bug' ("))
                .and(predicate::str::contains("delimited, ';'")),
        );
    let assert = dialect()
        .args([
            "inspect",
            csv.to_str().unwrap(),
            "--label-map",
            map.to_str().unwrap(),
            "--json",
        ])
        .assert()
        .success();
    let inspection = stdout_json(&assert);
    assert_eq!(inspection["profile"]["rows"], 36);
    assert_eq!(inspection["rowsUsed"], 36);

    let out = work.path().join("model");
    let assert = dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--text-column",
            "subject",
            "--label-column",
            "category",
        ])
        .args([
            "--label-map",
            map.to_str().unwrap(),
            "--model",
            common::tiny_model("bert").to_str().unwrap(),
        ])
        .args([
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--json",
        ])
        .assert()
        .success();
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&assert.get_output().stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["labels"].as_array().unwrap().len(), 3, "{first}");
}

#[test]
fn train_refuses_blocking_data_unless_forced() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("one.csv");
    std::fs::write(
        &csv,
        "text,label\nthe app crashes,bug\nerror on login,bug\nblank page,bug\n",
    )
    .unwrap();
    dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--model",
            common::tiny_model("bert").to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("only one class").and(predicate::str::contains("--force")),
        );
    dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--force",
            "--model",
            common::tiny_model("bert").to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("at least 2 classes"));
}

#[test]
fn runs_are_recorded_listed_shown_and_deleted() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    dialect()
        .args([
            "train",
            csv.to_str().unwrap(),
            "--model",
            common::tiny_model("distilbert").to_str().unwrap(),
        ])
        .args([
            "--runs-dir",
            runs.to_str().unwrap(),
            "--epochs",
            "1",
            "--device",
            "cpu",
        ])
        .assert()
        .success();
    let assert = dialect()
        .args(["runs", "--runs-dir", runs.to_str().unwrap(), "--json"])
        .assert()
        .success();
    let list = stdout_json(&assert);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let run = &list[0];
    assert_eq!(run["status"], "finished");
    assert_eq!(run["summary"]["epochs"].as_array().unwrap().len(), 1);
    let id = run["id"].as_str().unwrap().to_string();
    let model = runs.join(&id).join("model");
    assert!(model.join("model.safetensors").is_file());
    assert!(
        std::fs::read_to_string(runs.join(&id).join("events.jsonl"))
            .unwrap()
            .lines()
            .count()
            >= 4
    );
    dialect()
        .args(["runs", "show", &id, "--runs-dir", runs.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("best model:").and(predicate::str::contains("epoch 1")));
    dialect()
        .args([
            "predict",
            model.to_str().unwrap(),
            "please add dark mode",
            "--device",
            "cpu",
        ])
        .assert()
        .success();
    dialect()
        .args([
            "runs",
            "delete",
            "../x",
            "--runs-dir",
            runs.to_str().unwrap(),
        ])
        .assert()
        .code(1);
    let review = dialect()
        .args([
            "runs",
            "review",
            &id,
            "--json",
            "--runs-dir",
            runs.to_str().unwrap(),
        ])
        .assert()
        .success();
    let review = stdout_json(&review);
    let rows = review["rows"].as_array().unwrap();
    assert_eq!(
        rows.len() as u64,
        review["metrics"]["count"].as_u64().unwrap()
    );
    let wrong = rows.iter().filter(|r| r["truth"] != r["predicted"]).count();
    dialect()
        .args(["runs", "review", &id, "--runs-dir", runs.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{wrong} of {} validation rows misclassified",
            rows.len()
        )));
    let exports = work.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let export = |expect_ok: bool| {
        let a = dialect()
            .args(["runs", "export", &id, exports.to_str().unwrap()])
            .args(["--runs-dir", runs.to_str().unwrap()])
            .assert();
        if expect_ok {
            a.success()
        } else {
            a.code(1)
        }
    };
    export(true);
    let exported = exports.join(format!("dialect-{id}"));
    assert!(exported.join("model.safetensors").is_file());
    assert!(exported.join("config.json").is_file());
    export(false).stderr(predicate::str::contains("already exists"));
    dialect()
        .args(["runs", "delete", &id, "--runs-dir", runs.to_str().unwrap()])
        .assert()
        .success();
    assert!(!runs.join(&id).exists());
}

/// Train a one-epoch run of the tiny task into `runs`, with `options` added; its id.
fn recorded_run(csv: &std::path::Path, runs: &std::path::Path, options: &[&str]) -> String {
    dialect()
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(common::tiny_model("distilbert"))
        .args(["--epochs", "1", "--device", "cpu", "--runs-dir"])
        .arg(runs)
        .args(options)
        .assert()
        .success();
    let list = listed_runs(runs);
    list[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn runs_diff_compares_two_seeds_on_the_same_validation_rows() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    let first = recorded_run(&csv, &runs, &[]);
    // Another training seed: the split has its own seed, so the rows are the same.
    let second = recorded_run(&csv, &runs, &["--seed", "7"]);
    assert_ne!(first, second);
    let diff = dialect()
        .args(["runs", "diff", &first, &second, "--json", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success();
    let diff = stdout_json(&diff);
    let review = |id: &str| {
        let out = dialect()
            .args(["runs", "review", id, "--json", "--runs-dir"])
            .arg(&runs)
            .assert()
            .success();
        stdout_json(&out)
    };
    let (a, b) = (review(&first), review(&second));
    assert_eq!(diff["rowsCompared"], a["metrics"]["count"]);
    assert_eq!(diff["accuracyBefore"], a["metrics"]["accuracy"]);
    assert_eq!(diff["accuracyAfter"], b["metrics"]["accuracy"]);
    // Every row whose prediction changed is listed, and only those.
    let predicted = |r: &serde_json::Value| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["line"].as_u64().unwrap(), row["predicted"].clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (pa, pb) = (predicted(&a), predicted(&b));
    let moved = pa.iter().filter(|(line, p)| pb[*line] != **p).count();
    assert_eq!(diff["rows"].as_array().unwrap().len(), moved);
    let counted = ["fixed", "broken", "changed"]
        .iter()
        .map(|k| diff[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(counted as usize, moved);
    dialect()
        .args(["runs", "diff", &first, &second, "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{first} → {second}")));
}

#[test]
fn runs_review_scores_the_recorded_rows_and_refuses_an_edited_file() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    let id = recorded_run(&csv, &runs, &[]);
    let review = |json: bool| {
        let mut cmd = dialect();
        cmd.args(["runs", "review", &id, "--runs-dir"]).arg(&runs);
        if json {
            cmd.arg("--json");
        }
        cmd.assert()
    };
    let listed: Vec<(usize, String)> = serde_json::from_str(
        &std::fs::read_to_string(runs.join(&id).join("validation-rows.json")).unwrap(),
    )
    .unwrap();
    let out = review(true).success();
    let got = stdout_json(&out);
    assert_eq!(got["validation"]["kind"], "verified");
    let lines: Vec<u64> = got["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    let recorded: Vec<u64> = listed.iter().map(|(l, _)| *l as u64).collect();
    assert_eq!(lines, recorded);
    review(false).success().stdout(predicate::str::contains(
        "verified against the run's fingerprint",
    ));

    // Rows appended: the validation rows are intact, and the review says the file changed.
    let original = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, format!("{original}\"one more ticket\",bug\n")).unwrap();
    review(false).success().stdout(predicate::str::contains(
        "changed since the run trained, but all",
    ));

    // Rows moved (new rows on top): what sits at the recorded lines is not the
    // validation set any more, and a re-split would mix in training rows.
    let (header, body) = original.split_once('\n').unwrap();
    std::fs::write(
        &csv,
        format!("{header}\n\"new ticket on top\",bug\n\"another\",feature_request\n{body}"),
    )
    .unwrap();
    review(false)
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains(format!("changed since run {id} trained")).and(
                predicate::str::contains("validation rows are gone or different"),
            ),
        );

    // A run recorded before fingerprints is re-split, and said to be unverifiable.
    std::fs::write(&csv, &original).unwrap();
    let record = runs.join(&id).join("run.json");
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("fingerprint");
    std::fs::write(&record, old.to_string()).unwrap();
    std::fs::remove_file(runs.join(&id).join("validation-rows.json")).unwrap();
    review(false)
        .success()
        .stdout(predicate::str::contains("NOT VERIFIABLE"));
}

#[test]
fn runs_delete_refuses_a_run_another_process_trains() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    let runs = work.path().join("runs");
    let id = recorded_run(&csv, &runs, &[]);
    // This test process plays the trainer: it holds the run's lock and is in run.json.
    let record = runs.join(&id).join("run.json");
    let mut running: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    running["status"] = "running".into();
    running["pid"] = std::process::id().into();
    std::fs::write(&record, running.to_string()).unwrap();
    let lock = std::fs::File::open(runs.join(&id).join("run.lock")).unwrap();
    lock.try_lock().unwrap();
    let delete = || {
        dialect()
            .args(["runs", "delete", &id, "--runs-dir"])
            .arg(&runs)
            .assert()
    };
    delete().code(1).stderr(predicate::str::contains(format!(
        "run {id} is being trained by another Dialect process (pid {})",
        std::process::id()
    )));
    dialect()
        .args(["runs", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains("running"));
    // Once the trainer is gone, the run reads as interrupted and can be deleted.
    drop(lock);
    dialect()
        .args(["runs", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains("interrupted"));
    delete().success();
    assert!(!runs.join(&id).exists());
}

#[test]
fn max_rows_trains_on_a_stratified_sample() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 20);
    let assert = dialect()
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(common::tiny_model("distilbert"))
        .args([
            "--max-rows",
            "30",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--json",
            "--out",
        ])
        .arg(work.path().join("model"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let started: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let rows = started["trainRows"].as_u64().unwrap() + started["validationRows"].as_u64().unwrap();
    assert_eq!(rows, 30, "{started}");
    assert_eq!(started["labels"].as_array().unwrap().len(), 3);
}

#[test]
fn model_download_offline_is_a_user_error() {
    let home = tempfile::tempdir().unwrap();
    dialect()
        .env("HF_HOME", home.path())
        .env("HF_HUB_OFFLINE", "1")
        .args(["models", "--download", "someone/some-model"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("offline"));
}

#[test]
fn devices_and_models_are_listed() {
    let assert = dialect().args(["devices", "--json"]).assert().success();
    let devices = stdout_json(&assert);
    assert_eq!(devices[0]["choice"], "cpu");
    assert_eq!(devices[0]["available"], true);
    assert!(devices[0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    // A build without the `cuda` feature says so; a CUDA build names what is missing
    // (scripts/install-smoke.sh --cuda).
    #[cfg(not(feature = "cuda"))]
    assert!(devices[1]["note"].as_str().is_some_and(
        |n| n.starts_with("this build has no CUDA support: use Dialect's Linux release")
    ));
    // Without a GPU, the self-test checks the CPU against itself.
    dialect()
        .args(["devices", "--check"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("check cpu f32: passed")
                .and(predicate::str::contains("AdamW updates"))
                .and(predicate::str::contains("training lowers the loss")),
        );
    let home = tempfile::tempdir().unwrap();
    dialect()
        .env("HF_HOME", home.path())
        .args(["models"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("distilbert-base-uncased")
                .and(predicate::str::contains("needs a download"))
                .and(predicate::str::is_match(
                    r"FacebookAI/xlm-roberta-base +multilingual +needs a download \(≈ 1100 MB\)",
                )
                .unwrap()),
        );
}

/// The tiny task with each text cut into `subject` and `body` columns, under `header`
/// (a permutation of subject, body, label).
fn write_two_column_csv(path: &std::path::Path, header: [&str; 3]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for (subject, body, label) in &split_tiny_rows() {
        let cell = |name: &str| match name {
            "subject" => subject.as_str(),
            "body" => body.as_str(),
            _ => label.as_str(),
        };
        w.write_record(header.map(cell)).unwrap();
    }
    w.flush().unwrap();
}

/// The tiny task's rows as (first half of the text, second half, label).
fn split_tiny_rows() -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(dir.path(), 6);
    let mut reader = csv::Reader::from_path(csv).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let words: Vec<&str> = r[0].split(' ').collect();
            let (subject, body) = words.split_at(words.len() / 2);
            (subject.join(" "), body.join(" "), r[1].to_string())
        })
        .collect()
}

#[test]
fn predict_reads_a_file_with_the_columns_the_model_was_trained_on() {
    let work = tempfile::tempdir().unwrap();
    let train = work.path().join("train.csv");
    write_two_column_csv(&train, ["subject", "body", "label"]);
    let out = work.path().join("model");
    dialect()
        .arg("train")
        .arg(&train)
        .args(["--text-column", "subject", "--text-column", "body"])
        .args(["--text-separator", " | ", "--model"])
        .arg(common::tiny_model("distilbert"))
        .args(["--epochs", "1", "--batch-size", "8", "--device", "cpu"])
        .args(["--validation-fraction", "0.25", "--json", "--out"])
        .arg(&out)
        .assert()
        .success();

    // No --text-column: the model's own columns, found by name in any order.
    let input = work.path().join("tickets.csv");
    write_two_column_csv(&input, ["body", "label", "subject"]);
    let output = work.path().join("predicted.csv");
    dialect()
        .arg("predict")
        .arg(&out)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(&output).unwrap();
    let first = reader.records().next().unwrap().unwrap();
    let composed = format!("{} | {}", &first[2], &first[0]);
    let assert = dialect()
        .arg("predict")
        .arg(&out)
        .arg(&composed)
        .arg("--json")
        .assert()
        .success();
    let expected = stdout_json(&assert);
    assert_eq!(&first[3], expected[0]["label"].as_str().unwrap());
    let confidence: f64 = first[4].parse().unwrap();
    assert!((confidence - expected[0]["confidence"].as_f64().unwrap()).abs() < 1e-4);

    // A file without one of them is refused, naming it.
    let body_only = work.path().join("body-only.csv");
    std::fs::write(&body_only, "body,label\nwhen i click login,bug\n").unwrap();
    dialect()
        .arg("predict")
        .arg(&out)
        .arg("--input")
        .arg(&body_only)
        .arg("--output")
        .arg(work.path().join("never.csv"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("has no column 'subject'")
                .and(predicate::str::contains("'subject', 'body'")),
        );
    assert!(!work.path().join("never.csv").exists());
}

#[test]
fn inspect_says_an_id_like_label_column_is_refused_even_with_force() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("ids.csv");
    let rows: String = (0..1500)
        .map(|i| format!("ticket number {i},{i}\n"))
        .collect();
    std::fs::write(&csv, format!("text,label\n{rows}")).unwrap();
    dialect()
        .args(["inspect", csv.to_str().unwrap(), "--text-column", "text"])
        .args(["--label-column", "label"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "refuses this data (even with --force)",
        ))
        .stdout(predicate::str::contains("unless --force").not());
}

#[test]
fn corrections_retrain_a_run_and_the_diff_shows_what_they_changed() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    let fixes = work.path().join("fixes.json");
    let first = recorded_run(&csv, &runs, &[]);
    let review = dialect()
        .args(["runs", "review", &first, "--json", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success();
    let review = stdout_json(&review);
    let rows = review["rows"].as_array().unwrap();
    let (relabel, drop) = (&rows[0], &rows[1]);
    let other = review["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .find(|l| *l != relabel["truth"].as_str().unwrap())
        .unwrap()
        .to_string();
    let line = |row: &serde_json::Value| row["line"].as_u64().unwrap().to_string();
    let set = |args: &[&str]| {
        dialect()
            .arg("corrections")
            .arg(&fixes)
            .args(["set", "--data"])
            .arg(&csv)
            .args(args)
            .assert()
    };
    set(&["--line", &line(relabel), "--to", &other]).success();
    set(&["--line", &line(drop), "--drop"]).success();
    set(&["--line", "9999", "--drop"])
        .code(1)
        .stderr(predicate::str::contains(
            "no labelled ticket starts on line 9999",
        ));
    dialect()
        .arg("corrections")
        .arg(&fixes)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 correction(s)"))
        .stdout(predicate::str::contains(format!("→ {other}")));

    // Retrained with the corrections: the new run names its parent and records them.
    dialect()
        .args(["train", "--retrain", &first, "--corrections"])
        .arg(&fixes)
        .arg("--runs-dir")
        .arg(&runs)
        .assert()
        .success();
    let list = listed_runs(&runs);
    let second = list[0]["id"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(list[0]["parent"], first.as_str());
    assert_eq!(
        list[0]["data"]["corrections"]["corrections"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(list[0]["config"]["seed"], list[1]["config"]["seed"]);

    // Compared on their shared validation rows: the dropped ticket is left out, the
    // relabelled one is judged by its new class.
    let diff = dialect()
        .args(["runs", "diff", &first, &second, "--json", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success();
    let diff = stdout_json(&diff);
    let count = review["metrics"]["count"].as_u64().unwrap();
    assert_eq!(diff["rowsCompared"].as_u64().unwrap(), count - 1);
    assert_eq!(diff["basis"]["kind"], "validationRows");
    assert_eq!(diff["basis"]["onlyBefore"], 1);
    let relabelled_row = diff["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"] == relabel["line"]);
    if let Some(row) = relabelled_row {
        assert_eq!(row["truth"], other.as_str());
        assert_eq!(row["truthBefore"], relabel["truth"]);
    }
    // Or on one file that both models score.
    let on_file = dialect()
        .args(["runs", "diff", &first, &second, "--json", "--on"])
        .arg(&csv)
        .arg("--runs-dir")
        .arg(&runs)
        .assert()
        .success();
    let on_file = stdout_json(&on_file);
    assert_eq!(on_file["basis"]["kind"], "file");
    assert_eq!(on_file["rowsCompared"], 30);

    // The corrected CSV: the relabelled row has its new class, the dropped one is gone.
    let out = work.path().join("corrected.csv");
    dialect()
        .arg("corrections")
        .arg(&fixes)
        .args(["export", "--data"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let corrected =
        dialect::dataset::read_labeled(&out, &dialect::TextSpec::column("text"), "label", None)
            .unwrap();
    assert_eq!(corrected.examples.len(), 29);
    // The tiny task repeats each text twice per class: count the copies.
    let text = |row: &serde_json::Value| row["text"].as_str().unwrap().to_string();
    let copies = |file: &std::path::Path, text: &str, label: &str| {
        dialect::dataset::read_labeled(file, &dialect::TextSpec::column("text"), "label", None)
            .unwrap()
            .examples
            .iter()
            .filter(|e| e.text == text && e.label == label)
            .count()
    };
    assert_eq!(
        copies(&out, &text(relabel), &other),
        copies(&csv, &text(relabel), &other) + 1
    );
    let dropped_truth = drop["truth"].as_str().unwrap();
    assert_eq!(
        copies(&out, &text(drop), dropped_truth) + 1,
        copies(&csv, &text(drop), dropped_truth)
    );

    // Undo one by one.
    dialect()
        .arg("corrections")
        .arg(&fixes)
        .args(["undo", "--line", &line(drop)])
        .assert()
        .success();
    dialect()
        .arg("corrections")
        .arg(&fixes)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 correction(s)"));
}

#[test]
fn a_runs_threshold_routes_predictions_and_evaluate_reports_it() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    let id = recorded_run(&csv, &runs, &[]);
    let review = dialect()
        .args(["runs", "review", &id, "--json", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success();
    let review = stdout_json(&review);
    let rows = review["rows"].as_array().unwrap();
    assert_eq!(
        review["trust"]["coverage"]["overall"]["rows"].as_u64(),
        Some(rows.len() as u64)
    );
    assert!(review["trust"]["calibration"]["eceAfter"].is_number());
    // Halfway between two neighbouring confidences of the validation rows.
    let mut confidences: Vec<f64> = rows
        .iter()
        .map(|r| r["confidence"].as_f64().unwrap())
        .collect();
    confidences.sort_by(f64::total_cmp);
    confidences.dedup();
    assert!(confidences.len() > 1, "one confidence for every row");
    let mid = confidences.len() / 2;
    let threshold = (confidences[mid - 1] + confidences[mid]) / 2.0;
    let expected_handled = rows
        .iter()
        .filter(|r| r["confidence"].as_f64().unwrap() > threshold)
        .count();

    let kept = dialect()
        .args(["runs", "threshold", &id, &threshold.to_string(), "--json"])
        .arg("--runs-dir")
        .arg(&runs)
        .assert()
        .success();
    let kept = stdout_json(&kept);
    assert_eq!(kept["threshold"].as_f64(), Some(threshold));
    assert_eq!(
        kept["chosenOn"]["handled"].as_u64(),
        Some(expected_handled as u64)
    );

    // The model routes with it: predict marks tickets, a file gets a route column.
    let model = runs.join(&id).join("model");
    let texts: Vec<String> = rows
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    let out = dialect()
        .arg("predict")
        .arg(&model)
        .args(&texts)
        .args(["--json", "--device", "cpu", "--precision", "f32"])
        .assert()
        .success();
    let preds = stdout_json(&out);
    let auto = preds
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["route"] == "auto")
        .count();
    assert_eq!(auto, expected_handled);
    assert!(preds
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["route"] == "auto" || p["route"] == "person"));
    dialect()
        .arg("predict")
        .arg(&model)
        .arg(&texts[0])
        .args(["--device", "cpu", "--threshold", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("→ person"));

    // evaluate reports calibration and coverage, and finds a threshold for an accuracy.
    let eval = dialect()
        .arg("evaluate")
        .arg(&model)
        .arg(&csv)
        .args(["--device", "cpu", "--json", "--for-accuracy", "0.05"])
        .assert()
        .success();
    let eval = stdout_json(&eval);
    assert!(
        eval["accuracy"].is_number(),
        "metrics stay at the top level"
    );
    assert_eq!(eval["trust"]["threshold"].as_f64(), Some(threshold));
    assert!(eval["chosen"]["chosenOn"]["accuracy"].as_f64().unwrap() >= 0.05);
    dialect()
        .arg("evaluate")
        .arg(&model)
        .arg(&csv)
        .args(["--device", "cpu"])
        .assert()
        .success()
        .stdout(predicate::str::contains("expected calibration error"))
        .stdout(predicate::str::contains(format!(
            "routing threshold {threshold:.3}"
        )));
    // Cleared, nothing is routed; a threshold outside (0, 1] is a user error.
    dialect()
        .args(["runs", "threshold", &id, "--clear", "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains("no routing threshold"));
    dialect()
        .args(["runs", "threshold", &id, "1.5", "--runs-dir"])
        .arg(&runs)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("between 0 and 1"));
}

#[test]
fn predict_explain_shows_the_words_behind_the_class() {
    let model = common::tiny_model("bert");
    let model = model.to_str().unwrap();
    let text = "the app crashing when i click login";
    let assert = dialect()
        .args([
            "predict",
            model,
            text,
            "--explain",
            "--json",
            "--device",
            "cpu",
        ])
        .assert()
        .success();
    let out = stdout_json(&assert);
    let explanation = &out[0]["explanation"];
    // The prediction is there as without --explain, the explanation beside it.
    let labels = explanation["labels"].as_array().unwrap();
    let predicted = explanation["predicted"].as_u64().unwrap() as usize;
    assert_eq!(out[0]["label"], labels[predicted]);
    let pieces: String = explanation["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(pieces, text);
    let words = explanation["words"].as_array().unwrap();
    assert_eq!(words.len(), 7);
    assert_eq!(words[2]["text"], "crashing");
    assert_eq!(words[2]["scores"].as_array().unwrap().len(), labels.len());

    // In words: the prediction line, then the words each way for the class asked about.
    let other = labels[(predicted + 1) % labels.len()].as_str().unwrap();
    dialect()
        .args(["predict", model, text, "--explain", "--device", "cpu"])
        .args(["--explain-class", other, "--top", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("toward {other} (")))
        .stdout(predicate::str::contains(format!("away from {other}: ")));
    dialect()
        .args([
            "predict",
            model,
            text,
            "--explain",
            "--explain-class",
            "nope",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no class 'nope'"));
    // Files are classified without explanations: one forward pass per word is for texts.
    dialect()
        .args([
            "predict",
            model,
            "--explain",
            "--input",
            "a.csv",
            "--output",
            "b.csv",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--explain"));
}

#[test]
fn class_weights_and_the_balanced_sampler_are_recorded_shown_and_kept_by_retrain() {
    let help = dialect().args(["train", "--help"]).assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    assert!(
        help.contains("--class-weights") && help.contains("--sampler"),
        "{help}"
    );
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 10);
    let runs = work.path().join("runs");
    let first = recorded_run(
        &csv,
        &runs,
        &["--class-weights", "inverse", "--sampler", "balanced"],
    );
    let recorded = |id: &str| -> serde_json::Value {
        let list = listed_runs(&runs);
        let run = list.as_array().unwrap().iter().find(|r| r["id"] == id);
        run.unwrap().clone()
    };
    let run = recorded(&first);
    assert_eq!(run["status"], "finished");
    assert_eq!(run["config"]["classWeights"], "inverse");
    assert_eq!(run["config"]["sampler"], "balanced");
    dialect()
        .args(["runs", "show", &first, "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "trained with --class-weights inverse --sampler balanced",
        ));
    dialect()
        .args(["train", "--retrain", &first, "--runs-dir"])
        .arg(&runs)
        .assert()
        .success();
    let list = listed_runs(&runs);
    let second = list[0]["id"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let retrained = recorded(&second);
    assert_eq!(retrained["config"]["classWeights"], "inverse");
    assert_eq!(retrained["config"]["sampler"], "balanced");
    // A run with the defaults shows no such line.
    let plain = recorded_run(&csv, &runs, &["--class-weights", "none"]);
    dialect()
        .args(["runs", "show", &plain, "--runs-dir"])
        .arg(&runs)
        .assert()
        .success()
        .stdout(predicate::str::contains("trained with --").not());
    dialect()
        .args(["train", csv.to_str().unwrap(), "--sampler", "stratified"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("shuffle or balanced"));
}

#[test]
fn inspect_with_a_model_says_whether_it_speaks_the_tickets_language() {
    let work = tempfile::tempdir().unwrap();
    let german = [
        "Die Anwendung stürzt jedes Mal ab, wenn ich die Einstellungen öffnen möchte.",
        "Ich kann mein Passwort nicht zurücksetzen, die Bestätigungsmail kommt nie an.",
        "Bitte fügen Sie einen dunklen Modus für die mobile Anwendung hinzu.",
        "Seit dem letzten Update werden meine Rechnungen nicht mehr heruntergeladen.",
    ];
    let english = [
        "The application crashes every time I try to open the settings page.",
        "I cannot reset my password, the confirmation email never arrives.",
        "Please add a dark mode to the mobile application, my eyes hurt at night.",
        "Since the last update my invoices are no longer downloaded.",
    ];
    let inspect = |name: &str, texts: &[&str], json: bool| {
        let csv = work.path().join(name);
        let rows: String = texts
            .iter()
            .enumerate()
            .map(|(i, t)| format!("\"{t}\",{}\n", ["bug", "feature"][i % 2]))
            .collect();
        std::fs::write(&csv, format!("text,label\n{rows}{rows}")).unwrap();
        let mut cmd = dialect();
        cmd.args(["inspect", csv.to_str().unwrap()])
            .args(["--model", "sentence-transformers/all-MiniLM-L6-v2"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let report = |name, texts| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&inspect(name, texts, true)).unwrap()["language"]
            .clone()
    };
    let de = report("de.csv", &german);
    assert_eq!(de["rowsSampled"], 8);
    assert_eq!(de["languages"][0]["name"], "German", "{de}");
    assert_eq!(de["model"]["languages"], "english");
    assert_eq!(
        de["advice"]["suggestedModel"], "intfloat/multilingual-e5-small",
        "{de}"
    );
    let en = report("en.csv", &english);
    assert_eq!(en["languages"][0]["name"], "English", "{en}");
    assert!(en["advice"].is_null(), "{en}");
    // The English model cuts German words into more pieces than English ones.
    let pieces = |r: &serde_json::Value| r["vocabulary"]["piecesPerWord"].as_f64().unwrap();
    assert!(pieces(&de) > pieces(&en) + 0.2, "{de} {en}");

    let text = inspect("de.csv", &german, false);
    assert!(text.contains("language and vocabulary"), "{text}");
    assert!(text.contains("German 100% (8)"), "{text}");
    assert!(
        text.contains("advice      100% of the tickets are German; all-MiniLM-L6-v2 was pre-trained on English only"),
        "{text}"
    );
}

#[test]
fn a_validation_file_is_checked_for_repeated_tickets_and_can_leave_them_out() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 5);
    let val = work.path().join("val.csv");
    std::fs::write(
        &val,
        "text,label\n\
         \"The app crashes when I click LOGIN!\",bug\n\
         \"would like an export option please\",feature_request\n\
         \"who do i call about my plan\",general_inquiry\n\
         \"the screen flickers on my tablet\",bug\n\
         \"can someone explain the monthly fee\",general_inquiry\n",
    )
    .unwrap();
    let inspect = dialect()
        .args(["inspect", csv.to_str().unwrap(), "--validation"])
        .arg(&val)
        .assert()
        .success();
    let out = String::from_utf8_lossy(&inspect.get_output().stdout).to_string();
    assert!(
        out.contains("2 validation texts also occur in training (1 the same"),
        "{out}"
    );
    assert!(
        out.contains("validation line 2 repeats training line 2 (same text)"),
        "{out}"
    );
    assert!(
        out.contains("validation line 3 repeats training line 6 (word similarity 0.83)"),
        "{out}"
    );

    // Its own corrections drop line 5; --drop-overlap leaves out lines 2 and 3.
    let corrections = work.path().join("val-corrections.json");
    dialect()
        .arg("corrections")
        .arg(&corrections)
        .args(["set", "--data"])
        .arg(&val)
        .args(["--line", "5", "--drop"])
        .assert()
        .success();
    let runs = work.path().join("runs");
    let id = recorded_run(
        &csv,
        &runs,
        &[
            "--validation",
            val.to_str().unwrap(),
            "--validation-corrections",
            corrections.to_str().unwrap(),
            "--drop-overlap",
        ],
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.join(&id).join("run.json")).unwrap())
            .unwrap();
    assert_eq!(record["data"]["validation"], val.to_str().unwrap());
    assert_eq!(record["data"]["dropOverlap"], true);
    assert_eq!(
        record["data"]["validationCorrections"]["corrections"][0]["line"],
        5
    );
    let rows: Vec<(usize, String)> = serde_json::from_str(
        &std::fs::read_to_string(runs.join(&id).join("validation-rows.json")).unwrap(),
    )
    .unwrap();
    let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, vec![4, 6]);
}
