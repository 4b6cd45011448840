//! A model folder is used only when it is whole: prediction and evaluation refuse a
//! classification head that is missing or disagrees with `id2label` (never a silently
//! random head), and training initialises a head only where it may. (The CLI's side:
//! cli/tests/model_integrity.rs.)

mod common;

use candle_core::{Device, Tensor};
use dialect::model::params::HeadPolicy;
use dialect::model::SequenceClassifier;
use dialect::{DeviceChoice, Predictor};
use std::collections::HashMap;
use std::path::Path;

/// A copy of the tiny fine-tuned DistilBERT (3 classes) in `dir`, with `edit` applied
/// to its tensors.
fn edited_model(dir: &Path, edit: impl FnOnce(&mut HashMap<String, Tensor>)) {
    let source = common::tiny_model("distilbert");
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let weights = dir.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
    edit(&mut tensors);
    candle_core::safetensors::save(&tensors, &weights).unwrap();
}

fn load_error(dir: &Path) -> String {
    match Predictor::load(dir, DeviceChoice::Cpu) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn prediction_refuses_a_model_without_its_classification_head() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("headless");
    edited_model(&dir, |t| {
        t.remove("classifier.weight");
        t.remove("classifier.bias");
    });
    let message = load_error(&dir);
    assert!(message.contains("'classifier.weight'"), "{message}");
    assert!(message.contains("random weights"), "{message}");
}

#[test]
fn prediction_refuses_a_head_whose_shape_disagrees_with_id2label() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("two-rows");
    edited_model(&dir, |t| {
        let w = t["classifier.weight"].narrow(0, 0, 2).unwrap();
        let b = t["classifier.bias"].narrow(0, 0, 2).unwrap();
        t.insert("classifier.weight".into(), w);
        t.insert("classifier.bias".into(), b);
    });
    let message = load_error(&dir);
    assert!(message.contains("'classifier.weight'"), "{message}");
    assert!(message.contains("[2, 32]"), "{message}");
    assert!(message.contains("id2label"), "{message}");
}

#[test]
fn prediction_refuses_a_bert_model_without_its_pooler() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("no-pooler");
    let source = common::tiny_model("bert");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let weights = dir.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
    tensors.retain(|name, _| !name.contains("pooler"));
    candle_core::safetensors::save(&tensors, &weights).unwrap();
    let message = load_error(&dir);
    assert!(message.contains("pooler.dense.weight"), "{message}");
}

#[test]
fn training_refuses_a_head_of_another_size_unless_a_new_head_is_asked_for() {
    let dir = common::tiny_model("distilbert");
    let two = Some(vec!["x".to_string(), "y".to_string()]);
    let err = match SequenceClassifier::load(&dir, two.clone(), &Device::Cpu, 1) {
        Ok(_) => panic!("a 3-class head was used for 2 classes"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("'classifier.weight'"), "{err}");
    assert!(err.contains("new head"), "{err}");

    let model = SequenceClassifier::load_with_head(
        &dir,
        two,
        HeadPolicy::InitIfMismatched,
        &Device::Cpu,
        1,
    )
    .unwrap();
    assert_eq!(
        model.newly_initialised(),
        ["classifier.weight", "classifier.bias"]
    );
}

#[test]
fn training_initialises_a_missing_head_and_keeps_a_fitting_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("base");
    edited_model(&dir, |t| {
        t.retain(|name, _| name.starts_with("distilbert."))
    });
    let labels = Some(vec!["a".to_string(), "b".to_string()]);
    let model = SequenceClassifier::load(&dir, labels, &Device::Cpu, 1).unwrap();
    assert_eq!(
        model.newly_initialised(),
        [
            "pre_classifier.weight",
            "pre_classifier.bias",
            "classifier.weight",
            "classifier.bias"
        ]
    );

    let fitting = SequenceClassifier::load(
        &common::tiny_model("distilbert"),
        Some(vec!["p".into(), "q".into(), "r".into()]),
        &Device::Cpu,
        1,
    )
    .unwrap();
    assert!(fitting.newly_initialised().is_empty());
}

/// A copy of the tiny DistilBERT with only its vocabulary (no tokenizer.json).
fn vocab_only_base(dir: &Path) -> std::path::PathBuf {
    let base = dir.join("vocab-only-base");
    std::fs::create_dir_all(&base).unwrap();
    for name in ["config.json", "model.safetensors", "vocab.txt"] {
        std::fs::copy(common::tiny_model("distilbert").join(name), base.join(name)).unwrap();
    }
    base
}

#[test]
fn training_into_a_used_output_folder_leaves_nothing_of_the_previous_model() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("model");
    // A previous model: its own tokenizer files, which the next base model lacks.
    std::fs::create_dir_all(&out).unwrap();
    for name in ["config.json", "special_tokens_map.json"] {
        std::fs::copy(common::tiny_model("bert").join(name), out.join(name)).unwrap();
    }
    std::fs::write(out.join("tokenizer.json"), "{\"stale\": true}").unwrap();

    let config = dialect::TrainConfig {
        model: vocab_only_base(work.path()).display().to_string(),
        output_dir: out.clone(),
        epochs: 1,
        batch_size: 8,
        max_length: 32,
        device: DeviceChoice::Cpu,
        ..dialect::TrainConfig::default()
    };
    let data = common::tiny_train_data(work.path(), 4);
    dialect::Trainer::run(
        &config,
        &data,
        |_| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    assert!(!out.join("special_tokens_map.json").exists());
    let tokenizer = std::fs::read_to_string(out.join("tokenizer.json")).unwrap();
    assert!(
        !tokenizer.contains("stale"),
        "the old tokenizer.json survived"
    );
    // Nothing but the model folder and the inputs beside it.
    let mut names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["model", "tickets.csv", "vocab-only-base"]);
    Predictor::load(&out, DeviceChoice::Cpu).unwrap();
}
