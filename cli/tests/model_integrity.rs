//! The CLI uses a model folder only when it is whole, and `train` writes only to its
//! run store and `--out`. (The engine's side: tests/model_integrity.rs.)

mod common;

use candle_core::Device;
use std::path::Path;

/// A copy of the tiny fine-tuned DistilBERT in `dir` without its classification head.
fn headless_model(dir: &Path) {
    let source = common::tiny_model("distilbert");
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let weights = dir.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
    tensors.retain(|name, _| !name.starts_with("classifier."));
    candle_core::safetensors::save(&tensors, &weights).unwrap();
}

#[test]
fn cli_predict_and_evaluate_refuse_a_headless_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("headless");
    headless_model(&dir);
    let csv = common::tiny_csv(tmp.path(), 2);
    for args in [
        vec!["predict", dir.to_str().unwrap(), "the app crashes"],
        vec!["evaluate", dir.to_str().unwrap(), csv.to_str().unwrap()],
        vec!["eval", dir.to_str().unwrap(), csv.to_str().unwrap()],
    ] {
        common::dialect()
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("'classifier.weight'"));
    }
}

#[test]
fn cli_train_records_the_run_in_the_store_and_writes_nothing_in_the_current_folder() {
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 4);
    let copy = work.path().join("copy");
    common::dialect_in(home.path())
        .current_dir(cwd.path())
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(common::tiny_model("distilbert"))
        .args(["--epochs", "1", "--max-length", "32", "--device", "cpu"])
        .args(["--out", copy.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    let runs = dialect::runs::RunStore::new(home.path().join("runs"));
    let listed = runs.list().unwrap();
    assert_eq!(listed.len(), 1);
    let model = runs.model_dir(&listed[0].id).unwrap();
    for file in ["config.json", "model.safetensors", "dialect.json"] {
        assert_eq!(
            std::fs::read(model.join(file)).unwrap(),
            std::fs::read(copy.join(file)).unwrap(),
            "{file}: the --out copy differs from the run's model"
        );
    }
}
