//! What sets ModernBERT apart, on its tiny golden fixture (tools/golden/make_golden.py):
//! its tokenizer's special tokens and pad id, both pooling modes against transformers,
//! the hub's older config keys, padded rows only, a masked-LM base checkpoint's head,
//! transformers' class names on save (native and mean-pooling heads), int8 prediction,
//! dropout in training and bf16 compute.

mod common;
#[path = "common/family.rs"]
mod family;

use candle_core::{DType, Device, Tensor};
use dialect::model::layers::{DropoutRng, Mode};
use dialect::model::params::read_checkpoint;
use dialect::model::tokenize::TextEncoder;
use dialect::model::{Batch, SequenceClassifier};
use family::{
    check_saved_classes, check_special_tokens, config, copy_with_config, int8_shift, logits,
    max_difference, mean_pooled, padded, read_json,
};
use serde_json::{json, Value};
use std::path::Path;

/// The fixture's special-token ids: they follow its 400-piece BPE vocabulary.
const CLS: u32 = 401;
const SEP: u32 = 402;
const PAD: u32 = 403;

fn fixture() -> std::path::PathBuf {
    common::tiny_model("modernbert")
}

fn golden() -> Value {
    read_json(&fixture().parent().unwrap().join("golden.json"))
}

/// The fixture's evaluation texts, padded as transformers padded them.
fn golden_batch(encoder: &TextEncoder) -> Batch {
    let texts: Vec<String> = serde_json::from_value(golden()["texts"].clone()).unwrap();
    padded(encoder, &texts)
}

/// `[CLS]` opens every row and `[SEP]` closes it, also when truncation cuts the text;
/// rows are padded with `[PAD]` (403 here, not 0).
#[test]
fn the_tokenizer_keeps_its_special_tokens_and_pads_with_its_pad_id() {
    check_special_tokens(&fixture(), CLS, SEP, PAD);
}

/// The fixture pools the mean of the token vectors; with `classifier_pooling` "cls"
/// the same weights pool the first token's, and match transformers' logits for that.
#[test]
fn first_token_pooling_matches_transformers() {
    let dir = copy_with_config(&fixture(), |c| c["classifier_pooling"] = json!("cls"));
    let model = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0).unwrap();
    let batch = golden_batch(&TextEncoder::load(dir.path(), 64).unwrap());
    let want: Vec<Vec<f32>> =
        serde_json::from_value(golden()["logits_cls_pooling"].clone()).unwrap();
    let diff = max_difference(&logits(&model, &batch), &want);
    assert!(diff <= 2e-5, "first-token pooling: {diff}");
    let mean: Vec<Vec<f32>> = serde_json::from_value(golden()["logits"].clone()).unwrap();
    assert!(
        max_difference(&want, &mean) > 1e-2,
        "the two poolings differ"
    );
}

/// Hub checkpoints (answerdotai/ModernBERT-base) name the layer pattern and rotary bases
/// with the older keys: the same network, the same logits.
#[test]
fn the_hubs_older_config_keys_give_the_same_network() {
    let dir = copy_with_config(&fixture(), |c| {
        let map = c.as_object_mut().unwrap();
        map.remove("layer_types");
        map.remove("rope_parameters");
        map.insert("global_attn_every_n_layers".into(), json!(3));
        map.insert("global_rope_theta".into(), json!(160000.0));
        map.insert("local_rope_theta".into(), json!(10000.0));
    });
    let batch = golden_batch(&TextEncoder::load(dir.path(), 64).unwrap());
    let older = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0).unwrap();
    let newer = SequenceClassifier::load(&fixture(), None, &Device::Cpu, 0).unwrap();
    assert_eq!(logits(&older, &batch), logits(&newer, &batch));

    // A different local base is a different network (the keys are read, not ignored).
    let other = copy_with_config(&fixture(), |c| {
        c["rope_parameters"]["sliding_attention"]["rope_theta"] = json!(160000.0)
    });
    let other = SequenceClassifier::load(other.path(), None, &Device::Cpu, 0).unwrap();
    assert!(max_difference(&logits(&other, &batch), &logits(&newer, &batch)) > 1e-4);
}

#[test]
fn unsupported_config_values_are_named() {
    for (key, value, named) in [
        ("attention_bias", json!(true), "attention_bias"),
        (
            "classifier_pooling",
            json!("max"),
            "expected `cls` or `mean`",
        ),
        (
            "layer_types",
            json!(["full_attention"]),
            "1 layer_types for 3 layers",
        ),
    ] {
        let dir = copy_with_config(&fixture(), |c| c[key] = value);
        let err = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(named), "{key}: {err}");
    }
    let dir = copy_with_config(&fixture(), |c| {
        c["rope_parameters"]["full_attention"]["rope_type"] = json!("yarn")
    });
    let err = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("rope_type 'yarn'"), "{err}");
}

/// The local layers attend within a window of each row, which a padding-free batch
/// does not have: the model asks for padded rows and refuses packed ones clearly.
#[test]
fn only_padded_batches_are_taken() {
    let model = SequenceClassifier::load(&fixture(), None, &Device::Cpu, 0).unwrap();
    assert!(!model.takes_packed());
    let encoder = TextEncoder::load(&fixture(), 64).unwrap();
    let encoded = encoder
        .encode(&["please add dark mode".to_string()])
        .unwrap();
    let packed = encoder
        .collate_packed(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let err = model
        .forward(&packed, &Mode::Eval)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("padded batches"), "{err}");
}

/// A masked-LM base checkpoint (what the hub has) brings `head` and a decoder but no
/// classifier: the head is kept, only the classifier is initialised; without `head`
/// its dense layer and norm are initialised too (the norm to ones).
#[test]
fn a_base_checkpoint_keeps_its_prediction_head() {
    let mut tensors = read_checkpoint(&fixture()).unwrap();
    tensors.retain(|name, _| !name.starts_with("classifier."));
    let vocab = config(&fixture())["vocab_size"].as_u64().unwrap() as usize;
    tensors.insert(
        "decoder.bias".into(),
        Tensor::zeros(vocab, DType::F32, &Device::Cpu).unwrap(),
    );
    let mut cfg = config(&fixture());
    cfg["architectures"] = json!(["ModernBertForMaskedLM"]);
    let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    let load = |tensors: std::collections::HashMap<String, Tensor>| {
        SequenceClassifier::from_parts(
            "base",
            cfg.clone(),
            || Ok(tensors),
            Some(labels.clone()),
            &Device::Cpu,
            3,
        )
        .unwrap()
    };
    let model = load(tensors.clone());
    assert_eq!(
        model.newly_initialised(),
        ["classifier.weight", "classifier.bias"]
    );

    tensors.retain(|name, _| !name.starts_with("head."));
    let model = load(tensors);
    assert_eq!(
        model.newly_initialised(),
        [
            "head.dense.weight",
            "head.norm.weight",
            "classifier.weight",
            "classifier.bias"
        ]
    );
    let vars: std::collections::HashMap<_, _> = model.vars().iter().cloned().collect();
    let norm: Vec<f32> = vars["head.norm.weight"].as_tensor().to_vec1().unwrap();
    assert!(norm.iter().all(|&w| w == 1.0));
    // transformers' truncated normal: std hidden_size^-0.5, cut at 2 std.
    let classifier: Vec<f32> = vars["classifier.weight"]
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let limit = 2.0 / 32f32.sqrt();
    assert!(classifier.iter().all(|w| w.abs() <= limit + 1e-6));
    assert!(classifier.iter().any(|w| w.abs() > limit / 4.0));
}

/// Saved with transformers' class names (the classifier, or the bare encoder under a
/// mean-pooling head) and `model_type` kept; reloaded, the logits are the same.
#[test]
fn saved_models_name_their_transformers_classes_and_reload_identically() {
    let dir = fixture();
    let encoder = TextEncoder::load(&dir, 32).unwrap();
    let batch = golden_batch(&encoder);
    let (native, _) = check_saved_classes(&dir, &encoder, &batch, "ModernBert");
    assert_eq!(config(native.path())["model_type"], "modernbert");

    // The baseline's head replaces `head` as well as `classifier`.
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    let pooled = mean_pooled(model, 32);
    assert!(pooled.vars().iter().all(|(n, _)| !n.starts_with("head.")));
}

/// int8 prediction: the four encoder projections per layer in int8 move the logits,
/// but only a little.
#[test]
fn int8_prediction_stays_close_to_f32() {
    let dir = fixture();
    let batch = golden_batch(&TextEncoder::load(&dir, 64).unwrap());
    let diff = int8_shift(&dir, &batch);
    assert!(diff > 0.0 && diff < 0.05, "int8 moved logits by {diff}");
}

/// Training mode draws dropout masks where the config asks for dropout (the fixture
/// has none: its training and evaluation passes agree).
#[test]
fn dropout_applies_in_training_only() {
    let batch = golden_batch(&TextEncoder::load(&fixture(), 64).unwrap());
    let train = |dir: &Path| -> Vec<Vec<f32>> {
        let model = SequenceClassifier::load(dir, None, &Device::Cpu, 0).unwrap();
        let rng = DropoutRng::new(5);
        model
            .forward(&batch, &Mode::Train(&rng))
            .unwrap()
            .to_vec2()
            .unwrap()
    };
    let model = SequenceClassifier::load(&fixture(), None, &Device::Cpu, 0).unwrap();
    let eval = logits(&model, &batch);
    assert_eq!(train(&fixture()), eval);
    for key in [
        "embedding_dropout",
        "attention_dropout",
        "mlp_dropout",
        "classifier_dropout",
    ] {
        let dir = copy_with_config(&fixture(), |c| c[key] = json!(0.3));
        let dropped = train(dir.path());
        assert!(max_difference(&dropped, &eval) > 1e-3, "{key}");
        let model = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0).unwrap();
        assert_eq!(logits(&model, &batch), eval, "{key} in evaluation");
    }
}

/// Mixed precision (what CUDA trains in): products in bf16, norms, rotations and
/// softmax in f32. On the CPU's composed ops the logits stay near the f32 ones and
/// every weight still gets a finite gradient.
#[test]
fn bf16_compute_stays_close_to_f32_and_trains() {
    let batch = golden_batch(&TextEncoder::load(&fixture(), 64).unwrap());
    let mut model = SequenceClassifier::load(&fixture(), None, &Device::Cpu, 0).unwrap();
    let f32s = logits(&model, &batch);
    model.set_compute_dtype(DType::BF16);
    let out = model.forward(&batch, &Mode::Eval).unwrap();
    assert_eq!(out.dtype(), DType::F32);
    let diff = max_difference(&out.to_vec2().unwrap(), &f32s);
    assert!(diff > 0.0 && diff < 0.1, "bf16 moved logits by {diff}");
    let targets = Tensor::new(&[0u32, 1, 2, 0], &Device::Cpu).unwrap();
    let grads = candle_nn::loss::cross_entropy(&out, &targets)
        .unwrap()
        .backward()
        .unwrap();
    for (name, var) in model.vars() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name}: no gradient"));
        let norm = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(norm.is_finite() && norm > 0.0, "{name}: {norm}");
    }
}
