//! `dialect runs export ID FOLDER --trainer-job` and `dialect runs import FOLDER`: the
//! job folder, the usage errors, and a job's output recorded as a run that predicts.

mod common;

use common::{dialect_in, stdout_json};
use predicates::prelude::*;
use serde_json::{json, Value};

#[test]
fn a_run_exports_as_a_trainer_job_and_its_output_imports_back() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let runs = work.path().join("runs");
    let id = common::trained_tiny_run(work.path(), &home, &runs);
    let exports = work.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let export = |extra: &[&str]| {
        let mut cmd = dialect_in(&home);
        cmd.args(["runs", "export", &id])
            .arg(&exports)
            .args(extra)
            .arg("--runs-dir")
            .arg(&runs);
        cmd.assert()
    };

    export(&["--onnx", "--trainer-job"])
        .failure()
        .stderr(predicate::str::contains("cannot be used with"));
    let done = stdout_json(&export(&["--trainer-job", "--json"]).success());
    let folder = exports.join(format!("dialect-{id}-trainer"));
    assert_eq!(done["folder"], folder.to_str().unwrap());
    for file in [
        "train.py",
        "job.json",
        "rows.json",
        "launch.sh",
        "requirements.txt",
        "README.md",
        "accelerate/multi_gpu.yaml",
        "accelerate/fsdp.yaml",
        "accelerate/deepspeed_zero2.yaml",
        "accelerate/ds_zero2.json",
    ] {
        assert!(folder.join(file).is_file(), "{file} not written");
        assert!(done["files"].as_array().unwrap().contains(&json!(file)));
    }
    export(&["--trainer-job"])
        .failure()
        .stderr(predicate::str::contains("already exists"));

    // A folder that is not a job's output.
    dialect_in(&home)
        .args(["runs", "import"])
        .arg(work.path())
        .arg("--runs-dir")
        .arg(&runs)
        .assert()
        .failure()
        .stderr(predicate::str::contains("dialect-import.json"));

    // The job's output as train.py writes it, every validation row predicted right.
    let job: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("job.json")).unwrap()).unwrap();
    let rows: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("rows.json")).unwrap()).unwrap();
    let truth: Vec<Value> = rows["validation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].clone())
        .collect();
    let output = folder.join("output");
    let model = runs.join(&id).join("model");
    std::fs::create_dir_all(output.join("model")).unwrap();
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(model.join(file), output.join("model").join(file)).unwrap();
    }
    let result = json!({
        "source": job["source"],
        "data": job["data"]["path"],
        "baseModel": job["recipe"]["model"],
        "labels": rows["labels"],
        "multiLabel": false,
        "truth": truth,
        "epochs": [{
            "epoch": 1, "step": 2, "trainLoss": 1.1, "evalLoss": 1.0,
            "seconds": 0.1, "samplesPerSecond": 60.0, "predicted": truth,
        }],
        "bestEpoch": 1,
        "steps": 2,
        "seconds": 1.5,
        "device": "cpu",
    });
    std::fs::write(output.join("dialect-import.json"), result.to_string()).unwrap();
    let imported = stdout_json(
        &dialect_in(&home)
            .args(["runs", "import"])
            .arg(&output)
            .args(["--json", "--runs-dir"])
            .arg(&runs)
            .assert()
            .success(),
    );
    let new_id = imported["id"].as_str().unwrap().to_string();
    let shown = stdout_json(
        &dialect_in(&home)
            .args(["runs", "show", &new_id, "--json", "--runs-dir"])
            .arg(&runs)
            .assert()
            .success(),
    );
    assert_eq!(shown["status"], "finished");
    assert_eq!(shown["summary"]["epochs"][0]["metrics"]["accuracy"], 1.0);
    dialect_in(&home)
        .arg("predict")
        .arg(runs.join(&new_id).join("model"))
        .arg("the app crashes when i click login")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("bug")
                .or(predicate::str::contains("feature_request"))
                .or(predicate::str::contains("general_inquiry")),
        );
    // Without --json: the id alone on stdout, and on stderr what the import did to the
    // model, as `train` reports it.
    let assert = dialect_in(&home)
        .args(["runs", "import"])
        .arg(&output)
        .arg("--runs-dir")
        .arg(&runs)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("int8 check on")
                .and(predicate::str::contains("of the validation split"))
                .and(predicate::str::contains("calibrated on")),
        );
    let printed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let again = printed.trim();
    assert!(
        again != new_id && runs.join(again).join("model").is_dir(),
        "{printed}"
    );
}
