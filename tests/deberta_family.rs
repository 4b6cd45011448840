//! What sets DeBERTa-v2/v3 apart, on its tiny golden fixture (shaped like deberta-v3):
//! its tokenizer's special tokens and pad id, padded batches only, padding that leaves
//! a row's numbers alone, transformers' class names on save (native and mean-pooling
//! heads), a base checkpoint's new head, int8 prediction, and clear errors for what is
//! not supported.

mod common;
#[path = "common/family.rs"]
mod family;

use candle_core::{Device, Tensor};
use dialect::model::layers::Mode;
use dialect::model::tokenize::TextEncoder;
use dialect::model::{Arch, SequenceClassifier};
use family::{
    check_saved_classes, check_special_tokens, config, copy_with_config, int8_shift, logits,
    max_difference, padded, texts,
};
use serde_json::Value;

const ARCH: &str = "deberta_v2";

/// DeBERTa-v3's ids: [CLS] (1) opens every row and [SEP] (2) closes it, also when
/// truncation cuts the text; rows are padded with [PAD] (0).
#[test]
fn tokenizer_keeps_deberta_special_tokens_and_pads_with_pad() {
    check_special_tokens(&common::tiny_model(ARCH), 1, 2, 0);
}

/// A row's logits and token vectors are the same alone and padded next to a longer
/// row: the padding is masked in the content and in both relative-position terms.
#[test]
fn padding_leaves_each_row_unchanged() {
    let dir = common::tiny_model(ARCH);
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let all = texts();
    let batch = padded(&encoder, &all);
    let together = logits(&model, &batch);
    let pooled: Vec<Vec<f32>> = model
        .mean_pooled(&batch, &Mode::Eval)
        .unwrap()
        .to_vec2()
        .unwrap();
    for (i, text) in all.iter().enumerate() {
        let alone = padded(&encoder, std::slice::from_ref(text));
        let diff = max_difference(&logits(&model, &alone), &together[i..=i]);
        assert!(diff < 1e-5, "row {i}: logits moved by {diff} with padding");
        let pooled_alone: Vec<Vec<f32>> = model
            .mean_pooled(&alone, &Mode::Eval)
            .unwrap()
            .to_vec2()
            .unwrap();
        let diff = max_difference(&pooled_alone, &pooled[i..=i]);
        assert!(diff < 1e-5, "row {i}: token vectors moved by {diff}");
    }
}

/// Relative positions are per padded row: DeBERTa asks for padded batches, and a
/// padding-free one is a clear error rather than wrong numbers.
#[test]
fn padding_free_batches_are_refused() {
    let dir = common::tiny_model(ARCH);
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    assert!(!model.takes_packed());
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let encoded = encoder.encode(&texts()).unwrap();
    let packed = encoder
        .collate_packed(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let err = model.forward(&packed, &Mode::Eval).unwrap_err().to_string();
    assert!(err.contains("padded batches"), "{err}");
}

/// Saved with transformers' class names (the classifier, or the bare encoder under a
/// mean-pooling head) and `model_type` "deberta-v2"; reloaded, the logits are the same.
#[test]
fn saved_models_name_their_transformers_classes_and_reload_identically() {
    let dir = common::tiny_model(ARCH);
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    assert_eq!(model.arch(), Arch::DebertaV2);
    assert_eq!(model.max_positions(), 64);
    let encoder = TextEncoder::load(&dir, 32).unwrap();
    let batch = padded(&encoder, &texts());
    let (native, pooled_dir) = check_saved_classes(&dir, &encoder, &batch, "DebertaV2");
    let saved = config(native.path());
    assert_eq!(saved["model_type"], "deberta-v2");
    assert_eq!(saved["pos_att_type"], config(&dir)["pos_att_type"]);
    let names =
        candle_core::safetensors::load(pooled_dir.path().join("model.safetensors"), &Device::Cpu)
            .unwrap();
    assert!(
        !names
            .keys()
            .any(|n| n.starts_with("pooler.") || n.starts_with("classifier.")),
        "the unused native head is not saved: {:?}",
        names.keys().collect::<Vec<_>>()
    );
}

/// A base checkpoint (encoder only, as deberta-v3 ships) gets transformers' pooler and
/// classifier, initialised and named as new.
#[test]
fn a_base_checkpoint_gets_a_new_pooler_and_classifier() {
    let dir = copy_with_config(&common::tiny_model(ARCH), |_| {});
    let weights = dir.path().join("model.safetensors");
    let tensors = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
    let encoder_only: Vec<(String, Tensor)> = tensors
        .into_iter()
        .filter(|(n, _)| n.starts_with("deberta."))
        .collect();
    candle_core::safetensors::save(
        &encoder_only
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
        &weights,
    )
    .unwrap();
    let labels = vec!["a".to_string(), "b".to_string()];
    let model = SequenceClassifier::load(dir.path(), Some(labels), &Device::Cpu, 3).unwrap();
    let mut new = model.newly_initialised().to_vec();
    new.sort();
    assert_eq!(
        new,
        [
            "classifier.bias",
            "classifier.weight",
            "pooler.dense.bias",
            "pooler.dense.weight"
        ]
    );
    let batch = padded(&TextEncoder::load(dir.path(), 32).unwrap(), &texts());
    assert_eq!(logits(&model, &batch)[0].len(), 2);
}

/// int8 prediction quantizes the encoder's projections (the relative-position table
/// goes through them too): its logits move, but only a little.
#[test]
fn int8_prediction_stays_close_to_f32() {
    let dir = common::tiny_model(ARCH);
    let batch = padded(&TextEncoder::load(&dir, 32).unwrap(), &texts());
    let diff = int8_shift(&dir, &batch);
    assert!(diff > 0.0 && diff < 0.05, "int8 moved logits by {diff}");
}

/// Configurations outside what the engine implements are refused by name.
#[test]
fn unsupported_configurations_are_clear_errors() {
    let cases: [(&str, Value, &str); 3] = [
        ("conv_kernel_size", 3.into(), "conv_kernel_size 3"),
        ("pos_att_type", "p2c|p2p".into(), "pos_att_type 'p2p'"),
        ("embedding_size", 16.into(), "embedding_size 16"),
    ];
    for (field, value, message) in cases {
        let dir = copy_with_config(&common::tiny_model(ARCH), |cfg| cfg[field] = value);
        let err = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(message), "{field}: {err}");
    }
}
