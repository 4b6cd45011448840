//! Every command through Tauri's real IPC path (mock runtime, the app's own config and
//! capabilities): its success shape and its error shape `{kind, message, settings}`.

mod common;

use common::{app, app_with_sample, build_app, channel, request, TestApp};
use dialect::runs::{RunControl, RunRequest, RunStatus};
use dialect::settings::SplitPlan;
use dialect::train::DataSpec;
use dialect::{DeviceChoice, TextSpec, TrainConfig, TrainEvent};
use dialect_app::state::AppState;
use dialect_app::training::TrainingJob;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::Channel;
use tauri::test::get_ipc_response;
use tauri::{Manager, RunEvent};

/// Dialog stand-ins are process-wide environment variables: tests that use them take
/// turns.
static ENV: Mutex<()> = Mutex::new(());

/// `predict_file` on run `id` with its dialogs answered by the stand-ins: `input` is
/// the file read, `output` the file written; its answer. Hold `ENV` while calling.
#[cfg(feature = "e2e-dialogs")]
fn predict_file_through_dialogs(app: &TestApp, id: &str, input: &Path, output: &Path) -> Value {
    std::env::set_var("DIALECT_OPEN_FILE", input);
    std::env::set_var("DIALECT_SAVE_FILE", output);
    let written = app.call(
        "predict_file",
        json!({ "runId": id, "onProgress": channel() }),
    );
    std::env::remove_var("DIALECT_OPEN_FILE");
    std::env::remove_var("DIALECT_SAVE_FILE");
    written.unwrap_or_else(|e| panic!("predict_file failed: {e}"))
}

#[test]
fn app_info_reports_version_and_runs_folder() {
    let app = app();
    let info = app.ok("app_info", json!({}));
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(info["runsDir"].as_str().unwrap().ends_with("runs"));
    assert!(info["offline"].is_boolean());
}

#[test]
fn ui_ready_returns_the_time_it_was_called() {
    let app = app();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let at = app.ok("ui_ready", json!({})).as_u64().unwrap();
    assert!(at >= before && at < before + 60_000, "{at} vs {before}");
}

#[test]
fn sample_data_is_bundled_or_named_missing() {
    let app = app();
    let sample = app.ok("sample_data", json!({}));
    assert!(Path::new(sample["path"].as_str().unwrap()).is_file());
    assert!(sample["attribution"]
        .as_str()
        .unwrap()
        .contains("CC BY 4.0"));

    let missing = app_with_sample(Path::new("/nonexistent/banking77.csv"));
    let message = missing.err("sample_data", json!({}), "notFound");
    assert!(message.contains("/nonexistent/banking77.csv"), "{message}");
}

#[test]
fn inspect_data_profiles_and_reports() {
    let app = app();
    let csv = app.csv(6);
    let inspection = app.ok(
        "inspect_data",
        json!({ "path": csv, "text": null, "labelColumn": null, "labelMap": null }),
    );
    assert_eq!(inspection["profile"]["rows"], 18);
    assert_eq!(inspection["labelColumn"], "label");
    assert_eq!(inspection["rawLabels"].as_array().unwrap().len(), 3);
    assert!(inspection["report"]["findings"].is_array());

    let mapped = app.ok(
        "inspect_data",
        json!({
            "path": csv, "text": ["text"], "labelColumn": "label",
            "labelMap": { "mapping": { "bug": "problem", "feature_request": "problem" }, "unmapped": "drop" }
        }),
    );
    let classes: Vec<&str> = mapped["report"]["classCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[0].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["problem"]);

    let missing = app.dir.path().join("gone.csv");
    app.state().grant(&missing);
    let message = app.err(
        "inspect_data",
        json!({ "path": missing, "text": null, "labelColumn": null, "labelMap": null }),
        "io",
    );
    assert!(message.contains("gone.csv"), "{message}");
    let message = app.err(
        "inspect_data",
        json!({ "path": csv, "text": ["body"], "labelColumn": "label", "labelMap": null }),
        "data",
    );
    assert!(message.contains("'body'"), "{message}");
}

#[test]
fn inspect_data_measures_truncation_and_split_leakage_or_says_why_not() {
    let app = app();
    let csv = app.csv(6);
    let base = json!({ "path": csv, "text": null, "labelColumn": null, "labelMap": null });
    let unmeasured = |inspection: &Value| -> Vec<String> {
        inspection["report"]["notMeasured"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["code"].as_str().unwrap().to_string())
            .collect()
    };
    let plain = app.ok("inspect_data", base.clone());
    assert_eq!(unmeasured(&plain), ["truncation", "leakage"]);

    let mut checked = base.clone();
    checked["checks"] = json!({
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "maxLength": 8,
        "split": { "validationFraction": 0.2, "seed": 42, "maxRows": null }
    });
    let measured = app.ok("inspect_data", checked);
    assert!(unmeasured(&measured).is_empty(), "{measured}");

    let mut absent = base.clone();
    absent["checks"] = json!({ "model": "no-such-org/no-such-model", "maxLength": 128 });
    let absent = app.ok("inspect_data", absent);
    let reason = &absent["report"]["notMeasured"][0]["reason"];
    assert!(
        reason.as_str().unwrap().contains("not on this machine"),
        "{reason}"
    );

    // A folder the person did not open is not looked at.
    let mut folder = base;
    folder["checks"] = json!({ "model": app.dir.path() });
    let folder = app.ok("inspect_data", folder);
    let reason = &folder["report"]["notMeasured"][0]["reason"];
    assert!(
        reason.as_str().unwrap().contains("opened in Dialect"),
        "{reason}"
    );
}

#[test]
fn training_settings_are_the_engines() {
    let app = app();
    let catalogue = app.ok("training_settings", json!({}));
    assert_eq!(
        catalogue,
        serde_json::to_value(dialect::settings::catalogue()).unwrap()
    );
    let limits = &catalogue["limits"];
    assert_eq!(
        limits["epochs"],
        json!({ "min": dialect::settings::LIMITS.epochs.min, "max": dialect::settings::LIMITS.epochs.max })
    );
    assert_eq!(limits["maxLength"]["max"], 8192);
    assert_eq!(limits["validationFraction"]["min"], 0.01);
}

#[test]
fn only_files_the_person_opened_can_be_read() {
    let app = app();
    let secret = app.dir.path().join("secret.csv");
    std::fs::write(&secret, "text,label\nmy password is hunter2,x\n").unwrap();
    let sneaky = app.dir.path().join("sub/../secret.csv");
    for path in [&secret, &sneaky] {
        let message = app.err(
            "inspect_data",
            json!({ "path": path, "text": null, "labelColumn": null, "labelMap": null }),
            "forbidden",
        );
        assert!(message.contains("Choose file"), "{message}");
        app.err(
            "row_texts",
            json!({ "path": path, "text": ["text"], "lines": [2] }),
            "forbidden",
        );
    }
    let mut request = app.train_request(secret.to_str().unwrap());
    request["request"]["data"]["labelColumn"] = json!("label");
    app.err("start_training", request, "forbidden");

    // The sample is granted.
    let sample = app.ok("sample_data", json!({}));
    app.ok(
        "inspect_data",
        json!({ "path": sample["path"], "text": null, "labelColumn": null, "labelMap": null }),
    );
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn files_picked_in_the_dialog_are_granted() {
    let app = app();
    let secret = app.dir.path().join("secret.csv");
    std::fs::write(&secret, "text,label\nmy password is hunter2,x\n").unwrap();
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_var("DIALECT_OPEN_FILE", &secret);
    app.ok("pick_data_file", json!({}));
    std::env::remove_var("DIALECT_OPEN_FILE");
    app.ok(
        "row_texts",
        json!({ "path": secret, "text": ["text"], "lines": [2] }),
    );
}

#[test]
fn row_texts_returns_the_rows_asked_for() {
    let app = app();
    let csv = app.csv(2);
    let rows = app.ok(
        "row_texts",
        json!({ "path": csv, "text": ["text"], "lines": [3, 5, 99] }),
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["text"], "please add dark mode");
    assert_eq!(rows[0]["label"], Value::Null);
    // With the label column, each row's class after the map.
    let labelled = app.ok(
        "row_texts",
        json!({ "path": csv, "text": ["text"], "lines": [3, 5], "labelColumn": "label",
                "labelMap": { "mapping": { "feature_request": "feature", "bug": null }, "unmapped": "keep" } }),
    );
    assert_eq!(labelled[0]["label"], "feature");
    assert_eq!(labelled[1]["label"], Value::Null);
    app.err(
        "row_texts",
        json!({ "path": csv, "text": [], "lines": [2] }),
        "config",
    );
}

#[test]
fn corrections_are_kept_per_file_and_the_check_applies_them() {
    let app = app();
    let csv = app.csv(2);
    let empty = app.ok("corrections_for", json!({ "path": csv }));
    assert_eq!(empty["corrections"], json!([]));
    let kept = app.ok(
        "correct_ticket",
        json!({ "path": csv, "line": 3, "text": "please add dark mode", "given": "feature_request", "label": "bug" }),
    );
    let fix = &kept["corrections"][0];
    assert_eq!(
        (fix["line"].as_u64(), fix["label"].as_str()),
        (Some(3), Some("bug"))
    );
    assert_eq!(app.ok("corrections_for", json!({ "path": csv })), kept);
    // The check reads the file with the kept corrections.
    let inspection = app.ok(
        "inspect_data",
        json!({ "path": csv, "text": ["text"], "labelColumn": "label", "labelMap": null, "checks": null }),
    );
    assert_eq!(inspection["corrections"]["relabelled"], 1);
    assert!(inspection["pii"]["kinds"].as_array().unwrap().len() == 7);
    let undone = app.ok(
        "undo_correction",
        json!({ "path": csv, "line": 3, "hash": fix["hash"] }),
    );
    assert_eq!(undone["corrections"], json!([]));
}

#[test]
fn models_and_devices_are_listed() {
    let app = app();
    let models = app.ok("list_models", json!({}));
    let ids: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "distilbert-base-uncased");
    assert!(ids.contains(&"sentence-transformers/all-MiniLM-L6-v2"));

    let hub = app.ok(
        "check_model",
        json!({ "model": "someone/not-downloaded-model" }),
    );
    assert_eq!(hub["cached"], Value::Null);
    let folder = app.model();
    let status = app.ok("check_model", json!({ "model": folder }));
    assert_eq!(status["cached"], json!(folder));

    let devices = app.ok("list_devices", json!({}));
    let cpu = &devices.as_array().unwrap()[0];
    assert_eq!(cpu["choice"], "cpu");
    assert_eq!(cpu["available"], true);
    assert!(cpu["name"].as_str().is_some_and(|n| !n.is_empty()), "{cpu}");
    assert_eq!(cpu["memoryBytes"], Value::Null);
    assert_eq!(cpu["freeBytes"], Value::Null);
    assert_eq!(cpu["bf16"], false);
}

#[test]
fn devices_check_themselves_against_the_cpu() {
    // Through the main window's capability: denied unless `allow-check-device` is in it.
    let app = app();
    let checks = app.ok("check_device", json!({ "choice": "cpu" }));
    let [check] = checks.as_array().unwrap().as_slice() else {
        panic!("one check on the CPU: {checks}");
    };
    assert_eq!(check["device"], "cpu");
    assert_eq!(check["precision"], "f32");
    let items = check["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert_eq!(item["passed"], true, "{item}");
        assert!(
            item["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{item}"
        );
    }

    let devices = app.ok("list_devices", json!({}));
    for device in devices.as_array().unwrap() {
        if device["available"] == false {
            let choice = json!({ "choice": device["choice"] });
            app.err("check_device", choice, "device");
        }
    }
}

#[test]
fn only_model_folders_the_person_chose_can_be_used() {
    let app = app();
    let folder = app.dir.path().join("model");
    std::fs::create_dir(&folder).unwrap();
    for file in std::fs::read_dir(common::tiny_model("distilbert")).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, folder.join(file.file_name().unwrap())).unwrap();
    }
    let sneaky = folder.join("../model");
    let trained_run_model = app.dir.path().join("runs");
    for path in [
        folder.to_str().unwrap(),
        sneaky.to_str().unwrap(),
        "/no/such/folder",
        "../../etc",
        "org/../../x",
        "a/b/c",
        trained_run_model.to_str().unwrap(),
    ] {
        let message = app.err("check_model", json!({ "model": path }), "forbidden");
        assert!(message.contains("Choose folder"), "{message}");
        app.err(
            "download_model",
            json!({ "model": path, "onProgress": channel() }),
            "forbidden",
        );
    }
    let mut request = app.train_request(&app.csv(4));
    request["request"]["config"]["model"] = json!(folder);
    app.err("start_training", request, "forbidden");
    assert!(app
        .ok("list_runs", json!({}))
        .as_array()
        .unwrap()
        .is_empty());

    // Once chosen, the folder (by any spelling of its path) is the model.
    app.state().grant_model_folder(&folder);
    let status = app.ok("check_model", json!({ "model": sneaky }));
    assert_eq!(status["cached"], json!(folder.canonicalize().unwrap()));
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn the_folder_dialog_grants_a_model_folder() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let folder = common::tiny_model("distilbert").canonicalize().unwrap();
    app.err("check_model", json!({ "model": folder }), "forbidden");
    std::env::set_var("DIALECT_MODEL_DIR", &folder);
    let status = app.ok("pick_model_folder", json!({}));
    std::env::remove_var("DIALECT_MODEL_DIR");
    assert_eq!(status["id"], json!(folder));
    assert_eq!(status["cached"], json!(folder));
    app.ok("check_model", json!({ "model": folder }));

    // A folder that is not a model: granted, but said what it lacks.
    std::env::set_var("DIALECT_MODEL_DIR", app.dir.path());
    let message = app.err("pick_model_folder", json!({}), "modelNotFound");
    std::env::remove_var("DIALECT_MODEL_DIR");
    assert!(message.contains("config.json"), "{message}");
}

#[test]
fn download_reports_a_readable_error_offline() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_var("HF_HUB_OFFLINE", "1");
    let app = app();
    let message = app.err(
        "download_model",
        json!({ "model": "someone/not-downloaded-model", "onProgress": channel() }),
        "modelNotFound",
    );
    std::env::remove_var("HF_HUB_OFFLINE");
    assert!(message.contains("offline"), "{message}");
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn label_maps_round_trip_through_the_dialog_path() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let file = app.dir.path().join("map.json");
    std::env::set_var("DIALECT_SAVE_FILE", &file);
    let map = json!({ "mapping": { "Bug": "bug", "spam": null }, "unmapped": "drop" });
    let saved = app.ok("save_label_map", json!({ "map": map }));
    std::env::remove_var("DIALECT_SAVE_FILE");
    assert_eq!(saved, json!(file));

    std::env::set_var("DIALECT_OPEN_FILE", &file);
    let loaded = app.ok("load_label_map", json!({}));
    assert_eq!(loaded, map);
    std::fs::write(&file, "not json").unwrap();
    let message = app.err("load_label_map", json!({}), "data");
    assert!(message.contains("is not a label map"), "{message}");
    let picked = app.ok("pick_data_file", json!({}));
    std::env::remove_var("DIALECT_OPEN_FILE");
    assert_eq!(picked, json!(file));
}

#[test]
fn training_runs_on_its_own_thread_and_is_recorded() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_run();

    let attached = app.ok("attach_training", json!({ "onEvent": channel() }));
    assert_eq!(attached["runId"], json!(id));
    assert_eq!(attached["running"], false);
    let events = attached["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "started");
    assert_eq!(events.first().unwrap()["precision"], "f32");
    assert_eq!(events.last().unwrap()["type"], "finished");

    let runs = app.ok("list_runs", json!({}));
    assert_eq!(runs[0]["id"], json!(id));
    assert_eq!(runs[0]["status"], "finished");
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished");
    assert_eq!(detail["events"].as_array().unwrap().len(), events.len());

    let review = app.ok("review_run", json!({ "runId": id }));
    let rows = review["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        review["metrics"]["count"].as_u64().unwrap() as usize
    );
    assert!(rows[0]["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(review["metrics"]["confusion"].is_array());

    // A second run on the same data and split compares with the first, row by row.
    let second = app.trained_run();
    let diff = app.ok("diff_runs", json!({ "before": id, "after": second }));
    assert_eq!(diff["rowsCompared"].as_u64(), Some(rows.len() as u64));
    let changed = ["fixed", "broken", "changed"]
        .iter()
        .map(|k| diff[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(diff["rows"].as_array().unwrap().len() as u64, changed);
    app.ok("delete_run", json!({ "runId": second }));

    let predictions = app.ok(
        "predict",
        json!({ "runId": id, "texts": ["please add dark mode"] }),
    );
    let scores = predictions[0]["scores"].as_array().unwrap();
    let total: f64 = scores
        .iter()
        .map(|s| s["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);

    // A CPU run checks int8 on its validation split before it finishes; the Try box
    // computes in int8 when the check passed, and in either precision on request.
    let checked = &events[events.len() - 3];
    assert_eq!(checked["type"], "int8Checked");
    assert_eq!(events[events.len() - 2]["type"], "calibrated");
    let check = &checked["check"];
    assert_eq!(check["rows"], review["metrics"]["count"]);
    let passed =
        check["f32Accuracy"].as_f64().unwrap() - check["int8Accuracy"].as_f64().unwrap() <= 0.005;
    let info = app.ok("predictor_info", json!({ "runId": id }));
    assert_eq!(info["int8"], *check);
    assert_eq!(info["cpu"], true);
    assert_eq!(info["precision"], if passed { "int8" } else { "f32" });
    for precision in ["f32", "int8"] {
        let info = app.ok(
            "predictor_info",
            json!({ "runId": id, "precision": precision }),
        );
        assert_eq!(info["precision"], precision);
        let p = app.ok(
            "predict",
            json!({ "runId": id, "texts": ["please add dark mode"], "precision": precision }),
        );
        let total: f64 = p[0]["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["probability"].as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-4, "{precision}: {total}");
    }

    app.ok("delete_run", json!({ "runId": id }));
    assert_eq!(app.ok("list_runs", json!({})), json!([]));
    app.err("get_run", json!({ "runId": id }), "config");
}

#[test]
fn a_kept_threshold_routes_the_next_prediction_and_the_review_reads_it() {
    let app = app();
    let id = app.trained_run();
    let text = json!(["please add dark mode"]);
    let route = |app: &TestApp| {
        app.ok("predict", json!({ "runId": id, "texts": text }))[0]["route"].clone()
    };

    // No threshold yet: nothing is routed. The Try box's model is now loaded.
    let review = app.ok("review_run", json!({ "runId": id }));
    let trust = &review["trust"];
    assert_eq!(trust["threshold"], Value::Null);
    assert_eq!(trust["operating"], Value::Null);
    let points = trust["coverage"]["overall"]["points"].as_array().unwrap();
    assert_eq!(
        points.last().unwrap()["handled"],
        review["metrics"]["count"]
    );
    assert!(trust["calibration"]["temperature"].as_f64().unwrap() > 0.0);
    assert_eq!(
        app.ok("predictor_info", json!({ "runId": id }))["threshold"],
        Value::Null
    );
    assert_eq!(route(&app), Value::Null);

    // Kept with the operating point it was chosen at: the loaded model routes with it
    // at once, and the review reports it.
    let chosen = points[0].clone();
    let routing = json!({ "threshold": chosen["threshold"], "chosenOn": chosen });
    app.ok(
        "set_run_threshold",
        json!({ "runId": id, "routing": routing }),
    );
    let info = app.ok("predictor_info", json!({ "runId": id }));
    assert_eq!(info["threshold"], chosen["threshold"]);
    let trust = app.ok("review_run", json!({ "runId": id }))["trust"].clone();
    assert_eq!(trust["threshold"], chosen["threshold"]);
    assert_eq!(trust["operating"]["handled"], chosen["handled"]);

    for (threshold, expected) in [(1.0, "person"), (1e-6, "auto")] {
        let routing = json!({ "threshold": threshold, "chosenOn": null });
        app.ok(
            "set_run_threshold",
            json!({ "runId": id, "routing": routing }),
        );
        assert_eq!(route(&app), expected, "threshold {threshold}");
    }

    // Cleared: no routing again. A threshold that is no probability is refused.
    app.ok("set_run_threshold", json!({ "runId": id, "routing": null }));
    assert_eq!(route(&app), Value::Null);
    let bad = json!({ "threshold": 1.5, "chosenOn": null });
    let message = app.err(
        "set_run_threshold",
        json!({ "runId": id, "routing": bad }),
        "config",
    );
    assert!(message.contains("between 0 and 1"), "{message}");
    app.err(
        "set_run_threshold",
        json!({ "runId": "../etc", "routing": null }),
        "config",
    );
}

#[test]
fn an_explanation_covers_the_text_and_agrees_with_the_prediction() {
    let app = app();
    let id = app.trained_run();
    let text = "The app crashes  when I export,\nplease fix it!";
    for precision in [Value::Null, json!("f32"), json!("int8")] {
        let args = json!({ "runId": id, "text": text, "precision": precision });
        let e = app.ok("explain", args);
        let p = app.ok(
            "predict",
            json!({ "runId": id, "texts": [text], "precision": precision }),
        )[0]
        .clone();

        let pieces = e["pieces"].as_array().unwrap();
        let joined: String = pieces.iter().map(|p| p["text"].as_str().unwrap()).collect();
        assert_eq!(joined, text, "{precision}");
        let words = e["words"].as_array().unwrap();
        assert!(words.len() >= 9, "{precision}: {words:?}");
        let labels: Vec<&str> = e["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        for w in words {
            assert_eq!(w["scores"].as_array().unwrap().len(), labels.len());
            assert_eq!(
                w["probabilitiesWithout"].as_array().unwrap().len(),
                labels.len()
            );
        }
        assert_eq!(e["truncated"], false);

        let predicted = e["predicted"].as_u64().unwrap() as usize;
        assert_eq!(labels[predicted], p["label"], "{precision}");
        let probabilities = e["probabilities"].as_array().unwrap();
        for score in p["scores"].as_array().unwrap() {
            let c = labels.iter().position(|l| *l == score["label"]).unwrap();
            let (got, want) = (
                probabilities[c].as_f64().unwrap(),
                score["probability"].as_f64().unwrap(),
            );
            assert!(
                (got - want).abs() < 1e-5,
                "{precision} {c}: {got} vs {want}"
            );
        }
    }
    app.err(
        "explain",
        json!({ "runId": "../etc", "text": "hello" }),
        "config",
    );
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn a_run_predicts_files_and_exports_through_the_dialogs() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_run();
    let input = app.csv(2);
    let output = app.dir.path().join("predictions.csv");
    let written = predict_file_through_dialogs(&app, &id, Path::new(&input), &output);
    assert_eq!(written["rows"], 6);
    assert_eq!(written["multiLabel"], false);
    assert_eq!(written["probabilities"], 3);
    let header = std::fs::read_to_string(&output).unwrap();
    assert!(header.starts_with("text,label,predicted_label,confidence,prob_"));

    let export_parent = app.dir.path().join("exports");
    std::fs::create_dir(&export_parent).unwrap();
    std::env::set_var("DIALECT_SAVE_DIR", &export_parent);
    let exported = app.ok("export_run", json!({ "runId": id }));
    let message = app.err("export_run", json!({ "runId": id }), "config");
    std::env::remove_var("DIALECT_SAVE_DIR");
    let exported = Path::new(exported.as_str().unwrap());
    assert!(exported.join("config.json").is_file());
    assert!(exported.join("model.safetensors").is_file());
    assert!(message.contains("already exists"), "{message}");
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn a_run_exports_as_onnx_through_the_folder_dialog() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_run();
    let parent = app.dir.path().join("onnx-exports");
    std::fs::create_dir(&parent).unwrap();
    std::env::set_var("DIALECT_SAVE_DIR", &parent);
    let exported = app.ok("export_run_onnx", json!({ "runId": id }));
    let message = app.err("export_run_onnx", json!({ "runId": id }), "config");
    std::env::remove_var("DIALECT_SAVE_DIR");
    let folder = Path::new(exported.as_str().unwrap());
    assert_eq!(folder, parent.join(format!("dialect-{id}-onnx")));
    for file in [
        "model.onnx",
        "model.int8.onnx",
        "tokenizer.json",
        "config.json",
    ] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
    assert!(message.contains("already exists"), "{message}");
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn a_run_exports_as_a_trainer_job_and_its_output_imports_once_the_job_has_run() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_run();
    let parent = app.dir.path().join("jobs");
    std::fs::create_dir(&parent).unwrap();
    std::env::set_var("DIALECT_SAVE_DIR", &parent);
    let exported = app.ok("export_trainer_job", json!({ "runId": id }));
    std::env::remove_var("DIALECT_SAVE_DIR");
    let folder = Path::new(exported.as_str().unwrap());
    assert_eq!(folder, parent.join(format!("dialect-{id}-trainer")));
    for file in ["train.py", "job.json", "rows.json", "accelerate/fsdp.yaml"] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
    // The job has not run: its folder holds no output to import.
    std::env::set_var("DIALECT_IMPORT_DIR", folder);
    let message = app.err("import_run", json!({}), "config");
    std::env::remove_var("DIALECT_IMPORT_DIR");
    assert!(message.contains("dialect-import.json"), "{message}");

    // Its output, as train.py writes it (every validation row right), imports as a
    // single-label run that starts, like a trained one, with the job's plan.
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(folder.join(file)).unwrap()).unwrap()
    };
    let (job, rows) = (read("job.json"), read("rows.json"));
    let truth: Vec<Value> = rows["validation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].clone())
        .collect();
    let source = app.ok("get_run", json!({ "runId": id }));
    let output = folder.join("output");
    dialect::model::folder::copy_model(
        Path::new(source["record"]["config"]["outputDir"].as_str().unwrap()),
        &output.join("model"),
    )
    .unwrap();
    let result = json!({
        "source": job["source"],
        "data": job["data"]["path"],
        "baseModel": job["recipe"]["model"],
        "labels": rows["labels"],
        "multiLabel": false,
        "truth": truth,
        "epochs": [{
            "epoch": 1, "step": 3, "trainLoss": 1.0, "evalLoss": 0.9,
            "seconds": 0.2, "samplesPerSecond": 40.0, "predicted": truth,
        }],
        "bestEpoch": 1,
        "steps": 3,
        "seconds": 1.0,
        "device": "cpu",
    });
    std::fs::write(output.join("dialect-import.json"), result.to_string()).unwrap();
    std::env::set_var("DIALECT_IMPORT_DIR", &output);
    let imported = app.ok("import_run", json!({}));
    std::env::remove_var("DIALECT_IMPORT_DIR");
    let detail = app.ok("get_run", json!({ "runId": imported }));
    let started = &detail["events"][0];
    assert_eq!(started["type"], "started", "{detail}");
    assert!(started.get("multiLabel").is_none(), "{started}");
    assert_eq!(started["epochs"], detail["record"]["config"]["epochs"]);
    assert_eq!(started["stepsPerEpoch"], 3);
    assert_eq!(started["validationRows"], truth.len());
    assert_eq!(
        detail["record"]["summary"]["epochs"][0]["metrics"]["accuracy"],
        1.0
    );
}

/// A ticket file with the text split over `subject` and `body` (the tiny task's texts
/// cut in two), plus `extra` columns.
#[cfg(feature = "e2e-dialogs")]
fn two_column_csv(path: &Path, header: &str) {
    let rows = [
        ("the app crashes", "when i click login", "bug"),
        ("blank screen", "on open", "bug"),
        ("please add", "dark mode", "feature_request"),
        ("would like", "an export option", "feature_request"),
        ("how do i", "reset my password", "general_inquiry"),
        ("where can i", "change my email", "general_inquiry"),
    ];
    let mut out = format!("{header}\n");
    for _ in 0..3 {
        for (subject, body, label) in rows {
            out += &format!("{subject},{body},{label}\n");
        }
    }
    std::fs::write(path, out).unwrap();
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn predicting_a_file_uses_the_columns_the_run_was_trained_on() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let train = app.dir.path().join("train.csv");
    two_column_csv(&train, "subject,body,label");
    app.state().grant(&train);
    let mut request = app.train_request(train.to_str().unwrap());
    request["request"]["data"]["text"] =
        json!({ "columns": ["subject", "body"], "separator": " | " });
    let id = app.run_to_end(request);

    // A file with only one of the two columns is refused, naming the missing one.
    let body_only = app.dir.path().join("body-only.csv");
    std::fs::write(&body_only, "body,label\nwhen i click login,bug\n").unwrap();
    let output = app.dir.path().join("predictions.csv");
    std::env::set_var("DIALECT_OPEN_FILE", &body_only);
    std::env::set_var("DIALECT_SAVE_FILE", &output);
    let message = app.err(
        "predict_file",
        json!({ "runId": id, "onProgress": channel() }),
        "data",
    );
    assert!(message.contains("'subject'"), "{message}");
    assert!(message.contains("'subject', 'body'"), "{message}");
    assert!(!output.exists());

    // With both columns (in any order, among others) texts are composed as trained:
    // the predictions are those of the composed texts.
    let input = app.dir.path().join("both.csv");
    two_column_csv(&input, "body,subject,label");
    let written = predict_file_through_dialogs(&app, &id, &input, &output);
    assert_eq!(written["rows"], 18);
    let mut rows = csv::Reader::from_path(&output).unwrap();
    let first = rows.records().next().unwrap().unwrap();
    // Columns as written: body,subject (swapped by the header), label, predicted_label.
    let composed = format!("{} | {}", &first[1], &first[0]);
    let expected = app.ok("predict", json!({ "runId": id, "texts": [composed] }));
    assert_eq!(&first[3], expected[0]["label"].as_str().unwrap());
    let confidence: f64 = first[4].parse().unwrap();
    let expected_confidence = expected[0]["confidence"].as_f64().unwrap();
    assert!((confidence - expected_confidence).abs() < 1e-4);
}

#[test]
fn an_estimate_measures_once_per_model_then_reuses_and_suggests_what_fits() {
    let app = app();
    let csv = app.csv(8);
    let mut request = app.train_request(&csv);
    request.as_object_mut().unwrap().remove("onEvent");
    request["request"].as_object_mut().unwrap().remove("force");
    let first = app.ok("estimate_training", request.clone());
    let e = &first["estimate"];
    assert!(e["seconds"].as_f64().unwrap() > 0.0, "{e}");
    let (train, validation) = (
        e["trainRows"].as_u64().unwrap(),
        e["validationRows"].as_u64().unwrap(),
    );
    assert_eq!(train + validation, 24);
    let batch = e["batchSize"].as_u64().unwrap();
    assert_eq!(batch, 8);
    assert_eq!(e["epochs"], 2);
    assert_eq!(e["steps"].as_u64().unwrap(), 2 * train.div_ceil(batch));
    assert_eq!(e["measurement"]["reused"], false);
    assert!(first["fit"].is_null());
    // The measurement is kept beside the run store and reused for the same model.
    assert!(app.dir.path().join("estimates.json").is_file());
    let second = app.ok("estimate_training", request.clone());
    assert_eq!(second["estimate"]["measurement"]["reused"], true);
    assert_eq!(second["estimate"]["steps"], e["steps"]);

    // The kept corrections count as training applies them: a dropped ticket is one row fewer.
    app.ok(
        "correct_ticket",
        json!({ "path": csv, "line": 3, "text": "please add dark mode", "given": "feature_request", "label": null }),
    );
    let corrected = app.ok("estimate_training", request.clone());
    let c = &corrected["estimate"];
    let rows = c["trainRows"].as_u64().unwrap() + c["validationRows"].as_u64().unwrap();
    assert_eq!(rows, 23);

    // What fits in a time: a suggestion with settings to start.
    request["request"]["fitMinutes"] = json!(30.0);
    let fit = &app.ok("estimate_training", request.clone())["fit"];
    assert_eq!(fit["minutes"], 30.0);
    assert!(fit["fits"].is_boolean(), "{fit}");
    assert!(
        fit["preset"].as_str().is_some_and(|p| !p.is_empty()),
        "{fit}"
    );
    assert!(fit["estimate"]["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(
        fit["config"]["model"],
        request["request"]["config"]["model"]
    );
    assert!(fit["split"].is_object());

    // Refused like training: a file not opened, a folder not chosen, a bad time.
    let mut other = request.clone();
    other["request"]["data"]["path"] = json!(app.dir.path().join("elsewhere.csv"));
    app.err("estimate_training", other, "forbidden");
    let mut other = request.clone();
    other["request"]["config"]["model"] = json!(app.dir.path().join("not-chosen"));
    app.err("estimate_training", other, "forbidden");
    let mut other = request.clone();
    other["request"]["config"]["model"] = json!("dialect-test/not-downloaded");
    let message = app.err("estimate_training", other, "modelNotFound");
    assert!(message.contains("download it first"), "{message}");
    request["request"]["fitMinutes"] = json!(-1.0);
    app.err("estimate_training", request, "config");
    app.ok("cancel_estimate", json!({}));
}

#[test]
fn the_baseline_encodes_instead_of_stepping_and_its_model_evaluates_and_predicts() {
    let app = app();
    let mut request = app.train_request(&app.csv(8));
    request["request"]["config"]["method"] = json!("baseline");
    let id = app.run_to_end(request);

    // A re-attaching UI gets the encoding progress like any other event.
    let attached = app.ok("attach_training", json!({ "onEvent": channel() }));
    let events = attached["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"finished"), "{kinds:?}");
    assert!(!kinds.contains(&"step"), "{kinds:?}");
    let encoded = events.iter().rfind(|e| e["type"] == "encoding").unwrap();
    let rows =
        events[0]["trainRows"].as_u64().unwrap() + events[0]["validationRows"].as_u64().unwrap();
    assert_eq!(encoded["done"], rows);
    assert_eq!(encoded["total"], rows);

    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished");
    assert_eq!(detail["record"]["config"]["method"], "baseline");
    assert_eq!(detail["events"].as_array().unwrap().len(), events.len());

    let review = app.ok("review_run", json!({ "runId": id }));
    assert_eq!(
        review["rows"].as_array().unwrap().len(),
        review["metrics"]["count"].as_u64().unwrap() as usize
    );
    let predictions = app.ok(
        "predict",
        json!({ "runId": id, "texts": ["please add dark mode"] }),
    );
    let total: f64 = predictions[0]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);
}

#[test]
fn training_errors_are_readable() {
    let app = app();
    app.err("cancel_training", json!({}), "notFound");
    assert_eq!(
        app.ok("attach_training", json!({ "onEvent": channel() })),
        Value::Null
    );

    let mut request = app.train_request(&app.csv(4));
    request["request"]["data"]["labelColumn"] = json!("category");
    let message = app.err("start_training", request, "data");
    assert!(message.contains("'category'"), "{message}");

    let mut request = app.train_request(&app.csv(4));
    request["request"]["config"]["epochs"] = json!(0);
    app.err("start_training", request, "config");

    // bf16 on the CPU: the run starts, then fails saying why.
    let mut request = app.train_request(&app.csv(4));
    request["request"]["config"]["precision"] = json!("bf16");
    let id = app.run_to_end(request);
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["config"]["precision"], "bf16");
    let failed = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(failed["type"], "failed", "{failed}");
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("compute capability 8.0"), "{message}");

    app.err("review_run", json!({ "runId": "../etc" }), "config");
    app.err(
        "predict",
        json!({ "runId": "nope", "texts": ["x"] }),
        "config",
    );
    app.err("delete_run", json!({ "runId": "a/b" }), "config");
}

#[test]
fn only_the_main_window_may_call_commands() {
    let app = app();
    let other = tauri::WebviewWindowBuilder::new(&app.app, "other", Default::default())
        .build()
        .unwrap();
    let denied = get_ipc_response(&other, request("list_runs", json!({})))
        .expect_err("capabilities must deny it");
    assert!(denied.to_string().contains("not allowed"), "{denied}");
}

/// A job that trains the tiny model (for `epochs`) through `TrainingJob::start`, with
/// `on_event` also seeing each event (after it is recorded, as the UI's channel does)
/// and the run's control.
fn spawn_job(
    state: &AppState,
    dir: &Path,
    epochs: usize,
    on_event: impl FnMut(&TrainEvent, &RunControl) + Send + 'static,
) -> String {
    let model = state.grant_model_folder(&common::tiny_model("distilbert"));
    let config = TrainConfig {
        model: model.to_str().unwrap().into(),
        epochs,
        batch_size: 8,
        learning_rate: 1e-3,
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let data = DataSpec {
        validation_corrections: None,
        drop_overlap: false,
        corrections: None,
        path: common::tiny_csv(dir, 8),
        text: TextSpec::column("text"),
        label_column: "label".into(),
        label_form: dialect::dataset::LabelForm::Single,
        label_map: None,
        validation: None,
        split: SplitPlan {
            validation_fraction: 0.25,
            ..SplitPlan::default()
        },
    };
    let run = state
        .store
        .new_run(RunRequest {
            config,
            data,
            force: false,
            parent: None,
        })
        .unwrap();
    let control = run.control();
    let on_event = Mutex::new(on_event);
    let channel = Channel::new(move |body| {
        let event: TrainEvent = body.deserialize().unwrap();
        (dialect_app::sync::lock(&on_event))(&event, &control);
        Ok(())
    });
    let job = TrainingJob::start(run, channel).unwrap();
    let id = job.run_id().to_string();
    *dialect_app::sync::lock(&state.training) = Some(job);
    id
}

#[test]
fn a_panic_in_training_fails_the_run_keeps_its_model_and_frees_the_app() {
    let app = app();
    let id = spawn_job(&app.state(), app.dir.path(), 3, |event, _| {
        if matches!(event, TrainEvent::CheckpointSaved { .. }) {
            panic!("injected failure after the first save");
        }
    });
    app.wait_until_idle();

    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "failed", "{detail}");
    let error = detail["record"]["error"].as_str().unwrap();
    assert!(
        error.contains("injected failure after the first save"),
        "{error}"
    );
    let attached = app.ok("attach_training", json!({ "onEvent": channel() }));
    assert_eq!(attached["running"], false);
    let last = attached["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "failed", "{last}");
    assert_eq!(last["message"].as_str(), Some(error));

    // The model saved before the panic is kept and usable.
    let review = app.ok("review_run", json!({ "runId": id }));
    assert!(review["metrics"]["count"].as_u64().unwrap() > 0);
    // The app is not busy: the next run starts and finishes.
    let next = app.trained_run();
    let detail = app.ok("get_run", json!({ "runId": next }));
    assert_eq!(detail["record"]["status"], "finished");
}

#[test]
fn closing_the_window_cancels_training_without_blocking_the_event_loop() {
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(
        dir.path(),
        &common::repo_root().join("samples/banking77.csv"),
    );
    // After the cancel, the job takes a while to record its end (as a save or a large
    // tokenisation would): the window must not wait for it on the event loop.
    let slow_end = Duration::from_secs(2);
    let ended = Arc::new(AtomicBool::new(false));
    let ended_by_worker = ended.clone();
    let id = spawn_job(&app.state(), dir.path(), 500, move |_, control| {
        if control.is_cancelled() && !ended_by_worker.load(Ordering::SeqCst) {
            std::thread::sleep(slow_end);
            ended_by_worker.store(true, Ordering::SeqCst);
        }
    });
    let store = app.state::<AppState>().store.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.events(&id).unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "training did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let longest = Arc::new(Mutex::new(Duration::ZERO));
    let longest_seen = longest.clone();
    let started = Instant::now();
    // The app's window (from tauri.conf.json) opens when the loop starts; the person
    // closes it. The mock runtime hands window events to the run loop callback.
    app.run_return(move |handle, event| match event {
        RunEvent::Ready => {
            let window = handle.get_webview_window("main").unwrap();
            std::thread::spawn(move || window.close().unwrap());
        }
        RunEvent::WindowEvent { label, event, .. } => {
            let window = handle.get_webview_window(&label).unwrap();
            let t = Instant::now();
            dialect_app::on_window_event(&window.as_ref().window(), &event);
            let mut longest = longest_seen.lock().unwrap();
            *longest = (*longest).max(t.elapsed());
        }
        event => dialect_app::on_run_event(handle, event),
    });
    let longest = *longest.lock().unwrap();
    assert!(
        longest < Duration::from_millis(500),
        "the close handler took {longest:?}"
    );
    assert!(
        ended.load(Ordering::SeqCst),
        "the app exited before the run ended"
    );
    assert!(started.elapsed() >= slow_end);
    let record = store.get(&id).unwrap();
    assert_eq!(record.status, RunStatus::Cancelled, "{record:?}");
}

#[test]
fn reviewing_a_run_whose_data_changed_is_refused_and_a_locked_run_is_not_deleted() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_run();
    let review = app.ok("review_run", json!({ "runId": id }));
    assert_eq!(
        review["validation"],
        json!({ "kind": "verified", "note": null })
    );

    // Every ticket reworded: the run's validation rows are gone from the file.
    let csv = app.dir.path().join("tickets.csv");
    let edited = std::fs::read_to_string(&csv)
        .unwrap()
        .replace("\n\"", "\n\"reworded: ");
    std::fs::write(&csv, edited).unwrap();
    let message = app.err("review_run", json!({ "runId": id }), "dataChanged");
    assert!(message.contains("validation rows"), "{message}");

    // Another process training the run holds its lock (a second handle stands in).
    let lock = std::fs::File::open(app.dir.path().join("runs").join(&id).join("run.lock")).unwrap();
    lock.try_lock().unwrap();
    let message = app.err("delete_run", json!({ "runId": id }), "busy");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    drop(lock);
    app.ok("delete_run", json!({ "runId": id }));
}

#[test]
fn a_cancelled_run_resumes_from_its_last_epoch_and_finishes() {
    let app = app();
    let id = spawn_job(&app.state(), app.dir.path(), 3, |event, control| {
        if matches!(event, TrainEvent::Evaluated { epoch: 1, .. }) {
            control.cancel();
        }
    });
    app.wait_until_idle();
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "cancelled", "{detail}");
    assert_eq!(detail["record"]["resumable"], true, "{detail}");

    let resumed = app.ok(
        "resume_training",
        json!({ "runId": id, "onEvent": channel() }),
    );
    assert_eq!(resumed, json!(id));
    app.wait_until_idle();
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished", "{detail}");
    assert_eq!(detail["record"]["resumable"], false);
    assert_eq!(
        detail["record"]["summary"]["epochs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A finished run has nothing left to resume.
    app.err(
        "resume_training",
        json!({ "runId": id, "onEvent": channel() }),
        "config",
    );
}

#[test]
fn inspect_data_reports_the_tickets_languages_and_the_models_fit() {
    let app = app();
    let csv = app.dir.path().join("de.csv");
    let rows: String = [
        "\"Die Anwendung stürzt jedes Mal ab, wenn ich die Einstellungen öffnen möchte.\",bug",
        "\"Bitte fügen Sie einen dunklen Modus für die mobile Anwendung hinzu.\",feature",
    ]
    .repeat(4)
    .join("\n");
    std::fs::write(&csv, format!("text,label\n{rows}\n")).unwrap();
    app.state().grant(&csv);
    let inspect = |model: &str| {
        app.ok(
            "inspect_data",
            json!({ "path": csv, "text": null, "labelColumn": null, "labelMap": null,
                    "checks": { "model": model, "maxLength": 128 } }),
        )["language"]
            .clone()
    };
    let english = inspect("sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(english["rowsSampled"], 8);
    assert_eq!(english["languages"][0]["code"], "deu", "{english}");
    assert!(english["vocabulary"]["piecesPerWord"].as_f64().unwrap() > 1.0);
    assert_eq!(
        english["advice"]["suggestedModel"], "intfloat/multilingual-e5-small",
        "{english}"
    );
    // A multilingual model not on this machine: its languages, and why its vocabulary
    // was not measured.
    let multilingual = inspect("intfloat/multilingual-e5-small");
    assert_eq!(multilingual["model"]["languages"], "multilingual");
    assert!(multilingual["vocabulary"].is_null());
    let note = multilingual["vocabularyNote"].as_str().unwrap();
    assert!(note.contains("not on this machine"), "{note}");
    assert!(multilingual["advice"].is_null(), "{multilingual}");
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn a_run_trained_with_a_chosen_validation_file_records_it() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let csv = app.csv(8);
    let held_out = app.dir.path().join("held-out.csv");
    std::fs::write(
        &held_out,
        "text,label\n\
         \"The app crashes when I click LOGIN!\",bug\n\
         \"my invoice shows the wrong amount\",bug\n\
         \"please add a calendar view\",feature_request\n\
         \"who do i call about my plan\",general_inquiry\n",
    )
    .unwrap();
    std::env::set_var("DIALECT_OPEN_VALIDATION", &held_out);
    let picked = app.ok("pick_validation_file", json!({}));
    std::env::remove_var("DIALECT_OPEN_VALIDATION");
    assert_eq!(picked, json!(held_out));

    let mut request = app.train_request(&csv);
    request["request"]["data"]["validation"] = json!(held_out);
    let summary = app.ok(
        "check_validation_file",
        json!({ "data": request["request"]["data"] }),
    );
    assert_eq!(summary["rows"], 4);
    assert_eq!(summary["classCounts"][0], json!(["bug", 2]));
    assert_eq!(summary["overlap"]["rows"], 1);
    assert_eq!(summary["overlap"]["pairs"][0]["validationLine"], 2);
    assert_eq!(summary["overlap"]["pairs"][0]["exact"], true);

    // The data check reads it instead of the split, and names the repeated ticket.
    let inspection = app.ok(
        "inspect_data",
        json!({ "path": csv, "text": ["text"], "labelColumn": "label", "labelMap": null,
                "checks": { "model": null, "maxLength": null, "split": null, "validation": held_out } }),
    );
    let leak = inspection["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "leakage")
        .expect("a leakage finding");
    assert_eq!(leak["lines"], json!([2]));
    assert_eq!(inspection["report"]["overlap"]["rows"], 1);

    let id = app.run_to_end(request);
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished");
    assert_eq!(detail["record"]["data"]["validation"], json!(held_out));
    let review = app.ok("review_run", json!({ "runId": id }));
    assert_eq!(review["metrics"]["count"], 4);

    // A class training does not know is refused, naming the file, row and value.
    let other = app.dir.path().join("other.csv");
    std::fs::write(
        &other,
        "text,label\nwhere is my refund,bug\nrefund please,Refunds\n",
    )
    .unwrap();
    app.state().grant(&other);
    let mut data = request_data(&app, &csv);
    data["validation"] = json!(other);
    let message = app.err("check_validation_file", json!({ "data": data }), "data");
    assert!(message.contains("other.csv"), "{message}");
    assert!(
        message.contains("line 3") && message.contains("'Refunds'"),
        "{message}"
    );
}

/// The data spec of a request to train on `csv`.
#[cfg(feature = "e2e-dialogs")]
fn request_data(app: &TestApp, csv: &str) -> Value {
    app.train_request(csv)["request"]["data"].clone()
}

impl TestApp {
    /// Train the tiny model on the small multi-label file (a `labels` column of sets
    /// joined by `;`: bug, feature, question) and wait until the run ends.
    fn trained_multi_label_run(&self) -> String {
        let csv = self.dir.path().join("multi.csv");
        common::write_multi_label_csv(&csv, 8);
        self.state().grant(&csv);
        let mut request = self.train_request(csv.to_str().unwrap());
        let data = &mut request["request"]["data"];
        data["labelColumn"] = json!("labels");
        data["labelForm"] = json!({ "kind": "separated", "separator": ";" });
        request["request"]["config"]["epochs"] = json!(3);
        self.run_to_end(request)
    }
}

#[test]
fn a_multi_label_run_predicts_label_sets_and_reviews_each_label() {
    let app = app();
    let id = app.trained_multi_label_run();
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished", "{detail}");

    // Try: every label's probability with its threshold, the set over them, no route.
    let info = app.ok("predictor_info", json!({ "runId": id }));
    assert_eq!(info["multiLabel"], true, "{info}");
    assert_eq!(info["threshold"], Value::Null);
    let text = "sync crashes every time, how do i get support";
    let p = app.ok("predict", json!({ "runId": id, "texts": [text] }))[0].clone();
    assert_eq!(p["route"], Value::Null);
    let set: Vec<&str> = p["labels"]
        .as_array()
        .unwrap_or_else(|| panic!("no label set: {p}"))
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let scores = p["scores"].as_array().unwrap();
    let labels: Vec<&str> = scores
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["bug", "feature", "question"]);
    for s in scores {
        let (prob, threshold) = (
            s["probability"].as_f64().unwrap(),
            s["threshold"].as_f64().unwrap(),
        );
        assert!((0.0..=1.0).contains(&threshold), "{s}");
        let label = s["label"].as_str().unwrap();
        assert_eq!(set.contains(&label), prob >= threshold, "{p}");
    }
    let info_f32 = app.ok("predictor_info", json!({ "runId": id, "precision": "f32" }));
    assert_eq!(info_f32["multiLabel"], true);

    // Single-label features are refused with a message that says why.
    let message = app.err("explain", json!({ "runId": id, "text": text }), "config");
    assert!(message.contains("multi-label"), "{message}");
    let routing = json!({ "threshold": 0.9, "chosenOn": null });
    let message = app.err(
        "set_run_threshold",
        json!({ "runId": id, "routing": routing }),
        "config",
    );
    assert!(message.contains("multi-label"), "{message}");
    let message = app.err("diff_runs", json!({ "before": id, "after": id }), "config");
    assert!(message.contains("multi-label"), "{message}");

    // Review: label-set metrics on the verified validation rows, each label's 2x2
    // confusion covering every row, with the thresholds the model predicts with.
    let review = app.ok("review_run", json!({ "runId": id }));
    assert_eq!(review["validation"]["kind"], "verified", "{review}");
    assert_eq!(review["trust"], Value::Null);
    let metrics = &review["metrics"];
    let count = metrics["count"].as_u64().unwrap();
    assert_eq!(count, 8, "a quarter of 32 rows");
    assert_eq!(review["rows"].as_array().unwrap().len() as u64, count);
    let sets = &metrics["labelSets"];
    assert_eq!(metrics["accuracy"], sets["subsetAccuracy"]);
    let per_label = sets["perLabel"].as_array().unwrap();
    assert_eq!(per_label.len(), 3);
    for (c, class) in per_label
        .iter()
        .zip(metrics["perClass"].as_array().unwrap())
    {
        let cell = |k: &str| c[k].as_u64().unwrap();
        let cells = [
            "truePositives",
            "falsePositives",
            "falseNegatives",
            "trueNegatives",
        ];
        assert_eq!(cells.iter().map(|k| cell(k)).sum::<u64>(), count, "{c}");
        assert_eq!(
            class["support"].as_u64().unwrap(),
            cell("truePositives") + cell("falseNegatives")
        );
    }
    let thresholds: Vec<&Value> = scores.iter().map(|s| &s["threshold"]).collect();
    let reviewed: Vec<&Value> = sets["thresholds"].as_array().unwrap().iter().collect();
    assert_eq!(thresholds, reviewed);
}

#[cfg(feature = "e2e-dialogs")]
#[test]
fn a_multi_label_run_predicts_a_file_with_the_set_and_each_labels_probability() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let app = app();
    let id = app.trained_multi_label_run();
    let input = app.csv(2);
    let output = app.dir.path().join("predictions.csv");
    let written = predict_file_through_dialogs(&app, &id, Path::new(&input), &output);
    assert_eq!(written["rows"], 6);
    assert_eq!(written["multiLabel"], true);
    assert_eq!(written["probabilities"], 3);
    let written = std::fs::read_to_string(&output).unwrap();
    let header = written.lines().next().unwrap();
    assert_eq!(
        header,
        "text,label,predicted_labels,prob_bug,prob_feature,prob_question"
    );
    assert_eq!(written.lines().count(), 7);
}

#[test]
fn inspect_data_reads_label_sets_split_or_from_0_1_columns() {
    let app = app();
    let csv = app.dir.path().join("sets.csv");
    common::write_multi_label_csv(&csv, 4);
    app.state().grant(&csv);
    let counts = |inspection: &Value| -> Vec<(String, u64)> {
        inspection["rawLabels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_str().unwrap().to_string(), c[1].as_u64().unwrap()))
            .collect()
    };
    let expected = [("bug", 8), ("question", 8), ("feature", 4)]
        .map(|(l, n)| (l.to_string(), n))
        .to_vec();

    // One label per row: "bug;question" is a class of its own.
    let base = json!({ "path": csv, "text": ["text"], "labelColumn": "labels", "labelMap": null });
    let single = app.ok("inspect_data", base.clone());
    assert!(
        counts(&single).contains(&("bug;question".into(), 4)),
        "{single}"
    );
    assert!(single.get("labelSeparator").is_none(), "{single}");

    // Split, the separator sniffed: each value counted, the separator reported.
    let mut split = base.clone();
    split["labelForm"] = json!({ "kind": "separated", "separator": null });
    let split = app.ok("inspect_data", split);
    assert_eq!(counts(&split), expected, "{split}");
    assert_eq!(split["labelSeparator"], ";");
    assert_eq!(split["rowsUsed"], 16);

    // 0/1 columns: the same counts, no label column needed.
    let columns = json!({
        "path": csv, "text": ["text"], "labelColumn": null, "labelMap": null,
        "labelForm": { "kind": "columns", "columns": ["bug", "feature", "question"] }
    });
    let columns = app.ok("inspect_data", columns);
    assert_eq!(counts(&columns), expected, "{columns}");

    // Row texts read the labels in the same form: a set joined by "; ".
    let rows = app.ok(
        "row_texts",
        json!({
            "path": csv, "text": ["text"], "lines": [5], "labelColumn": null, "labelMap": null,
            "labelForm": { "kind": "columns", "columns": ["bug", "feature", "question"] }
        }),
    );
    assert_eq!(rows[0]["label"], "bug; question", "{rows}");

    // A cell that is not 0/1 is named.
    let message = app.err(
        "inspect_data",
        json!({
            "path": csv, "text": ["text"], "labelColumn": null, "labelMap": null,
            "labelForm": { "kind": "columns", "columns": ["labels"] }
        }),
        "data",
    );
    assert!(
        message.contains("line 2") && message.contains("'labels'"),
        "{message}"
    );
}

#[test]
fn start_training_learns_label_sets_from_0_1_columns() {
    let app = app();
    let csv = app.dir.path().join("flags.csv");
    common::write_multi_label_csv(&csv, 6);
    app.state().grant(&csv);
    let mut request = app.train_request(csv.to_str().unwrap());
    let data = &mut request["request"]["data"];
    // The UI sends no label column with 0/1 columns.
    data["labelColumn"] = json!("");
    data["labelForm"] = json!({ "kind": "columns", "columns": ["bug", "feature", "question"] });
    let id = app.run_to_end(request);
    let detail = app.ok("get_run", json!({ "runId": id }));
    assert_eq!(detail["record"]["status"], "finished", "{detail}");
    assert_eq!(detail["record"]["data"]["labelForm"]["kind"], "columns");
    let events = detail["events"].as_array().unwrap();
    let started = events.iter().find(|e| e["type"] == "started").unwrap();
    assert_eq!(started["multiLabel"], true, "{started}");
    assert_eq!(started["labels"], json!(["bug", "feature", "question"]));
    let tuned = events.iter().find(|e| e["type"] == "thresholdsTuned");
    let tuned = tuned.unwrap_or_else(|| panic!("no thresholdsTuned event: {detail}"));
    assert!(
        tuned["metrics"]["labelSets"]["microF1"].is_number(),
        "{tuned}"
    );
}
