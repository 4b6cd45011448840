//! ONNX export: the graphs Dialect writes for the tiny BERT, DistilBERT, RoBERTa,
//! DeBERTa-v2 and ModernBERT fixtures (and those two's other settings), run in tract (a pure-Rust ONNX runtime), give the engine's own
//! probabilities for rows of different lengths padded into one batch; the int8 graph
//! stays close; the folder holds the tokenizer and the metadata; a model the engine
//! cannot load is refused by name.

mod common;
#[path = "common/family.rs"]
mod family;

use candle_core::Device;
use dialect::export::onnx::{export_onnx, OnnxOptions, INT8_FILE, MODEL_FILE};
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;
use dialect::{DeviceChoice, Predictor};
use std::path::Path;
use tract_onnx::prelude::tract_ndarray::Array2;
use tract_onnx::prelude::{
    tvec, Framework, InferenceModelExt, IntoRunnable, Tensor as TractTensor,
};

const ARCHES: [&str; 5] = ["bert", "distilbert", "roberta", "deberta_v2", "modernbert"];

/// The rows of `texts` tokenised and padded as the engine pads them: ids and mask.
fn padded(model: &Path, texts: &[String]) -> (Array2<i64>, Array2<i64>) {
    let batch = family::padded(&TextEncoder::load(model, 128).unwrap(), texts);
    let to_i64 = |t: &candle_core::Tensor| {
        let rows: Vec<Vec<u32>> = t.to_vec2().unwrap();
        let (n, len) = (rows.len(), rows[0].len());
        let flat = rows.into_iter().flatten().map(i64::from).collect();
        Array2::from_shape_vec((n, len), flat).unwrap()
    };
    (to_i64(&batch.input_ids), to_i64(&batch.attention_mask))
}

/// tract's `(logits, probabilities)` for `texts`, row by row.
fn run_onnx(graph: &Path, model: &Path, texts: &[String]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let runnable = tract_onnx::onnx()
        .model_for_path(graph)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let (ids, mask) = padded(model, texts);
    let outputs = runnable
        .run(tvec!(
            TractTensor::from(ids).into(),
            TractTensor::from(mask).into()
        ))
        .unwrap();
    let rows = |i: usize| -> Vec<Vec<f32>> {
        let view = outputs[i].to_plain_array_view::<f32>().unwrap();
        view.outer_iter()
            .map(|r| r.iter().copied().collect())
            .collect()
    };
    (rows(0), rows(1))
}

fn engine_probabilities(model: &Path, texts: &[String]) -> Vec<Vec<f32>> {
    Predictor::load(model, DeviceChoice::Cpu)
        .unwrap()
        .predict(texts)
        .unwrap()
        .into_iter()
        .map(|p| p.scores.iter().map(|s| s.probability).collect())
        .collect()
}

fn max_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap()
}

#[test]
fn f32_graph_gives_the_engines_probabilities_on_a_padded_batch() {
    for arch in ARCHES {
        let model = common::tiny_model(arch);
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("onnx");
        export_onnx(&model, &target, OnnxOptions::default()).unwrap();
        let (logits, probs) = run_onnx(&target.join(MODEL_FILE), &model, &family::texts());
        let expected = engine_probabilities(&model, &family::texts());
        let delta = max_difference(&probs, &expected);
        assert!(delta <= 1e-4, "{arch}: max |Δprob| {delta}");
        assert_eq!(logits.len(), 3, "{arch}: one row of logits per text");
        // Each row alone gives what it gave in the padded batch.
        for (i, text) in family::texts().iter().enumerate() {
            let (_, alone) = run_onnx(&target.join(MODEL_FILE), &model, std::slice::from_ref(text));
            let delta = max_difference(&alone, &probs[i..=i]);
            assert!(delta <= 1e-5, "{arch}: row {i} alone differs by {delta}");
        }
    }
}

#[test]
fn int8_graph_stays_close_to_f32() {
    for arch in ARCHES {
        let model = common::tiny_model(arch);
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("onnx");
        let export = export_onnx(&model, &target, OnnxOptions { int8: true }).unwrap();
        assert!(export.files.contains(&INT8_FILE.to_string()));
        let (_, int8) = run_onnx(&target.join(INT8_FILE), &model, &family::texts());
        let expected = engine_probabilities(&model, &family::texts());
        let delta = max_difference(&int8, &expected);
        assert!(delta <= 0.02, "{arch}: int8 max |Δprob| {delta}");
        for (row, (a, b)) in int8.iter().zip(&expected).enumerate() {
            assert_eq!(
                argmax(a),
                argmax(b),
                "{arch}: row {row} changes class in int8"
            );
        }
    }
}

#[test]
fn mean_pooling_and_multi_label_heads_are_exported_as_the_engine_computes_them() {
    let source = common::tiny_model("bert");
    let work = tempfile::tempdir().unwrap();
    // A mean-pooling head (the frozen-encoder baseline), saved as the engine saves it.
    let model = SequenceClassifier::load_frozen(&source, &Device::Cpu).unwrap();
    let labels = model.labels().len();
    let weight = candle_core::Tensor::randn(0f32, 0.5, (labels, 32), &Device::Cpu).unwrap();
    let bias = candle_core::Tensor::randn(0f32, 0.5, labels, &Device::Cpu).unwrap();
    let mut pooled = model.into_mean_pooling(&weight, &bias).unwrap();
    // A multi-label model: a sigmoid per label instead of the softmax.
    pooled.set_multi_label(true);
    let dir = work.path().join("model");
    pooled.save(&dir).unwrap();
    TextEncoder::load(&source, 128).unwrap().save(&dir).unwrap();
    let target = work.path().join("onnx");
    export_onnx(&dir, &target, OnnxOptions::default()).unwrap();
    let (_, probs) = run_onnx(&target.join(MODEL_FILE), &dir, &family::texts());
    let expected = engine_probabilities(&dir, &family::texts());
    let delta = max_difference(&probs, &expected);
    assert!(delta <= 1e-4, "max |Δprob| {delta}");
    let sums: Vec<f32> = probs.iter().map(|r| r.iter().sum()).collect();
    assert!(
        sums.iter().any(|s| (s - 1.0).abs() > 1e-3),
        "sigmoids, not a softmax: row sums {sums:?}"
    );
}

#[test]
fn the_folder_holds_the_tokenizer_config_and_metadata() {
    let model = common::tiny_model("bert");
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("onnx");
    let export = export_onnx(&model, &target, OnnxOptions::default()).unwrap();
    for file in [MODEL_FILE, "tokenizer.json", "config.json"] {
        assert!(export.files.contains(&file.to_string()), "{file} missing");
    }
    assert!(!export.files.contains(&INT8_FILE.to_string()));
    let graph = tract_onnx::onnx()
        .proto_model_for_path(target.join(MODEL_FILE))
        .unwrap();
    let meta: std::collections::HashMap<String, String> = graph
        .metadata_props
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    assert_eq!(
        meta["id2label"],
        r#"{"0":"bug","1":"feature_request","2":"general_inquiry"}"#
    );
    assert_eq!(meta["max_length"], "64");
    assert_eq!(meta["multi_label"], "false");
    let inputs: Vec<&str> = graph
        .graph
        .as_ref()
        .unwrap()
        .input
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(inputs, ["input_ids", "attention_mask"]);
    // Exporting over an existing folder is refused and leaves it alone.
    let err = export_onnx(&model, &target, OnnxOptions::default()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(target.join(MODEL_FILE).is_file());
}

/// DeBERTa's other settings, made from the fixture by editing its config.json: one
/// disentangled term at a time, an unnormalised table, unbucketed distances (clamped to
/// the table), no relative attention at all.
#[test]
fn deberta_variants_are_exported_as_the_engine_computes_them() {
    let source = common::tiny_model("deberta_v2");
    for (what, edit) in [
        (
            "c2p only, table not normalised",
            serde_json::json!({"pos_att_type": ["c2p"], "norm_rel_ebd": "none"}),
        ),
        (
            "p2c only, distances not bucketed",
            serde_json::json!({
                "pos_att_type": ["p2c"],
                "position_buckets": -1,
                "max_relative_positions": 8
            }),
        ),
        (
            "no relative attention",
            serde_json::json!({"relative_attention": false}),
        ),
    ] {
        let model = family::copy_with_config(&source, |cfg| {
            for (key, value) in edit.as_object().unwrap() {
                cfg[key] = value.clone();
            }
        });
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("onnx");
        export_onnx(model.path(), &target, OnnxOptions::default()).unwrap();
        let (_, probs) = run_onnx(&target.join(MODEL_FILE), model.path(), &family::texts());
        let expected = engine_probabilities(model.path(), &family::texts());
        let delta = max_difference(&probs, &expected);
        assert!(delta <= 1e-4, "{what}: max |Δprob| {delta}");
    }
}

/// ModernBERT's other settings, made from the fixture (mean pooling, `layer_types`,
/// `rope_parameters`) by editing its config.json: transformers' first-token pooling, and
/// the hub's config style (`global_attn_every_n_layers`, the two rope thetas) with
/// another layer pattern, bases and window, in f32 and int8.
#[test]
fn modernbert_variants_are_exported_as_the_engine_computes_them() {
    let source = common::tiny_model("modernbert");
    for (what, edit) in [
        (
            "first-token pooling",
            serde_json::json!({"classifier_pooling": "cls"}),
        ),
        (
            "hub config: every 2nd layer global, other bases, window 2",
            serde_json::json!({
                "layer_types": null,
                "rope_parameters": null,
                "global_attn_every_n_layers": 2,
                "global_rope_theta": 500.0,
                "local_rope_theta": 50.0,
                "local_attention": 2
            }),
        ),
    ] {
        let model = family::copy_with_config(&source, |cfg| {
            for (key, value) in edit.as_object().unwrap() {
                cfg[key] = value.clone();
            }
        });
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("onnx");
        export_onnx(model.path(), &target, OnnxOptions { int8: true }).unwrap();
        let expected = engine_probabilities(model.path(), &family::texts());
        let (_, probs) = run_onnx(&target.join(MODEL_FILE), model.path(), &family::texts());
        let delta = max_difference(&probs, &expected);
        assert!(delta <= 1e-4, "{what}: max |Δprob| {delta}");
        let (_, int8) = run_onnx(&target.join(INT8_FILE), model.path(), &family::texts());
        let delta = max_difference(&int8, &expected);
        assert!(delta <= 0.02, "{what}: int8 max |Δprob| {delta}");
    }
}

/// A model the engine cannot load is refused with the loader's reason, and no folder
/// is left behind.
#[test]
fn unsupported_architectures_are_refused_by_name() {
    let model = family::copy_with_config(&common::tiny_model("bert"), |cfg| {
        cfg["model_type"] = "gpt2".into()
    });
    let out = tempfile::tempdir().unwrap();
    let err = export_onnx(
        model.path(),
        &out.path().join("onnx"),
        OnnxOptions::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("'gpt2'"), "{message}");
    assert!(
        message.contains("deberta-v2"),
        "names what is supported: {message}"
    );
    assert!(!out.path().join("onnx").exists());
}
