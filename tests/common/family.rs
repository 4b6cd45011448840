//! Helpers for the model-family tests (`#[path]`-included by them, as they need candle):
//! tokenised batches, eval logits and their distance, a fixture's config.json read or
//! edited in a copy, and the checks every family passes (int8, saving).
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use dialect::model::layers::Mode;
use dialect::model::tokenize::{Encoded, TextEncoder};
use dialect::model::{Batch, SequenceClassifier};
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

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
    encoder
        .collate(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
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
pub fn copy_with_config(model: &Path, edit: impl FnOnce(&mut Value)) -> TempDir {
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

/// The tokenizer in `dir`, cutting at 8 tokens, opens every row of `texts()` with the
/// id `open` and closes it with `close`, also when truncation cuts the text, and pads
/// with `pad`. The encoded rows, for what a family checks besides.
pub fn check_special_tokens(dir: &Path, open: u32, close: u32, pad: u32) -> Vec<Encoded> {
    let encoder = TextEncoder::load(dir, 8).unwrap();
    let encoded = encoder.encode(&texts()).unwrap();
    let (long, short) = (&encoded[0], &encoded[1]);
    assert!(long.truncated);
    assert_eq!(long.ids.len(), 8);
    assert_eq!((long.ids[0], long.ids[7]), (open, close), "{:?}", long.ids);
    assert!(short.ids.len() < 8, "{:?}", short.ids);
    assert_eq!(
        (short.ids.first(), short.ids.last()),
        (Some(&open), Some(&close))
    );
    let batch = encoder.collate(&[long, short], &Device::Cpu).unwrap();
    let rows: Vec<Vec<u32>> = batch.input_ids.to_vec2().unwrap();
    let padding = &rows[1][short.ids.len()..];
    assert!(
        !padding.is_empty() && padding.iter().all(|&id| id == pad),
        "{rows:?}"
    );
    encoded
}

/// How far int8 prediction moves the logits of the model in `dir` on `batch`: the
/// largest difference from its f32 logits.
pub fn int8_shift(dir: &Path, batch: &Batch) -> f32 {
    let f32s = logits(
        &SequenceClassifier::load_frozen(dir, &Device::Cpu).unwrap(),
        batch,
    );
    let mut model = SequenceClassifier::load_frozen(dir, &Device::Cpu).unwrap();
    model.quantize().unwrap();
    max_difference(&logits(&model, batch), &f32s)
}

/// `model` with the baseline's head: the mean of its `hidden`-wide token vectors
/// through one linear layer to 3 classes (weights 1, biases 0).
pub fn mean_pooled(model: SequenceClassifier, hidden: usize) -> SequenceClassifier {
    let weight = Tensor::ones((3, hidden), DType::F32, &Device::Cpu).unwrap();
    let bias = Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap();
    model.into_mean_pooling(&weight, &bias).unwrap()
}

/// The model in `dir`, saved with `encoder`, names transformers' class
/// `{class}ForSequenceClassification` and keeps its `model_type`; with the baseline's
/// head (`mean_pooled`) it saves as `{class}Model`. Each reloads with nothing newly
/// initialised and the same logits on `batch`. The two folders (native, mean-pooling),
/// for what a family checks besides.
pub fn check_saved_classes(
    dir: &Path,
    encoder: &TextEncoder,
    batch: &Batch,
    class: &str,
) -> (TempDir, TempDir) {
    let model = SequenceClassifier::load(dir, None, &Device::Cpu, 0).unwrap();
    let before = logits(&model, batch);
    let native = tempfile::tempdir().unwrap();
    model.save(native.path()).unwrap();
    encoder.save(native.path()).unwrap();
    let saved = config(native.path());
    assert_eq!(
        saved["architectures"][0],
        format!("{class}ForSequenceClassification")
    );
    assert_eq!(saved["model_type"], config(dir)["model_type"], "{class}");
    let reloaded = SequenceClassifier::load(native.path(), None, &Device::Cpu, 9).unwrap();
    assert!(reloaded.newly_initialised().is_empty(), "{class}");
    assert_eq!(logits(&reloaded, batch), before, "{class}");

    let hidden = config(dir)["hidden_size"].as_u64().unwrap() as usize;
    let pooled = mean_pooled(model, hidden);
    let pooled_logits = logits(&pooled, batch);
    let pooled_dir = tempfile::tempdir().unwrap();
    pooled.save(pooled_dir.path()).unwrap();
    assert_eq!(
        config(pooled_dir.path())["architectures"][0],
        format!("{class}Model")
    );
    let reloaded = SequenceClassifier::load(pooled_dir.path(), None, &Device::Cpu, 9).unwrap();
    assert!(reloaded.is_mean_pooling(), "{class}");
    assert_eq!(logits(&reloaded, batch), pooled_logits, "{class}");
    (native, pooled_dir)
}
