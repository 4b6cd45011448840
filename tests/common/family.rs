//! Helpers for the model-family tests: tokenised batches, eval logits and their
//! distance, and a fixture's config.json read or edited in a copy.

use dialect::model::layers::Mode;
use dialect::model::tokenize::TextEncoder;
use dialect::model::{Batch, SequenceClassifier};
use dialect::DeviceChoice;
use serde_json::Value;
use std::path::Path;

/// Three tickets of unlike lengths: one long enough to be truncated at 8 tokens, one
/// word, one short question.
pub fn texts() -> Vec<String> {
    [
        "the app crashes when i click login and the page is blank again",
        "hi",
        "how do i reset my password",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect()
}

/// `texts` tokenised by `encoder` and padded to the longest row, on the CPU.
pub fn padded(encoder: &TextEncoder, texts: &[String]) -> Batch {
    let encoded = encoder.encode(texts).unwrap();
    let cpu = DeviceChoice::Cpu.open().unwrap();
    encoder
        .collate(&encoded.iter().collect::<Vec<_>>(), &cpu)
        .unwrap()
}

/// The model's logits for `batch` in evaluation mode, one row per ticket.
pub fn logits(model: &SequenceClassifier, batch: &Batch) -> Vec<Vec<f32>> {
    model
        .forward(batch, &Mode::Eval)
        .unwrap()
        .to_vec2()
        .unwrap()
}

/// The largest absolute difference between two logit tables of the same shape.
pub fn max_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len(), "the tables have different row counts");
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A JSON file's contents.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A model folder's config.json.
pub fn config(model: &Path) -> Value {
    read_json(&model.join("config.json"))
}

/// A copy of the model folder `model` with `edit` applied to its config.json.
pub fn copy_with_config(model: &Path, edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let mut cfg = config(dir.path());
    edit(&mut cfg);
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    dir
}
