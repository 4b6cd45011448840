//! Parity with transformers: logits of the tiny DistilBERT, BERT, RoBERTa, XLM-RoBERTa
//! and DeBERTa-v3-shaped and ModernBERT fixtures, and the
//! parameters and logits after 3 AdamW steps (dropout off, schedule and clipping on),
//! against values transformers computed (tools/golden/make_golden.py); and a whole
//! 112-step, 14-epoch run against transformers' Trainer itself
//! (tools/golden/make_long_horizon.py).

mod common;

use candle_core::{Device, Tensor};
use dialect::model::layers::Mode;
use dialect::model::tokenize::TextEncoder;
use dialect::model::{Batch, SequenceClassifier};
use dialect::train::optim::{decays, linear_lr, steps_per_epoch, AdamW};
use dialect::train::train_step;
use serde_json::Value;

fn golden(arch: &str) -> Value {
    let path = common::tiny_model(arch)
        .parent()
        .unwrap()
        .join("golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn batch(v: &Value) -> Batch {
    let t = |key: &str| {
        let rows = v.get(key).map(ids).unwrap_or_else(|| {
            let shape = ids(&v["input_ids"]);
            shape.iter().map(|r| vec![0; r.len()]).collect()
        });
        Tensor::new(rows, &Device::Cpu).unwrap()
    };
    Batch {
        input_ids: t("input_ids"),
        attention_mask: t("attention_mask"),
        token_type_ids: t("token_type_ids"),
        offsets: None,
    }
}

fn assert_close(ours: &[Vec<f32>], theirs: &Value, tol: f32, what: &str) {
    let theirs: Vec<Vec<f32>> = serde_json::from_value(theirs.clone()).unwrap();
    assert_eq!(ours.len(), theirs.len());
    let worst = ours
        .iter()
        .flatten()
        .zip(theirs.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= tol, "{what}: max abs difference {worst} > {tol}");
}

fn check_logits(arch: &str) {
    let g = golden(arch);
    let dir = common::tiny_model(arch);
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    assert!(
        model.newly_initialised().is_empty(),
        "{:?}",
        model.newly_initialised()
    );
    assert_eq!(
        model.labels(),
        ["bug", "feature_request", "general_inquiry"]
    );

    // Our tokenizer gives transformers' ids.
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let texts: Vec<String> = serde_json::from_value(g["texts"].clone()).unwrap();
    let encoded = encoder.encode(&texts).unwrap();
    let refs: Vec<_> = encoded.iter().collect();
    let ours = encoder.collate(&refs, &Device::Cpu).unwrap();
    assert_eq!(
        ours.input_ids.to_vec2::<u32>().unwrap(),
        ids(&g["encoded"]["input_ids"])
    );
    assert_eq!(
        ours.attention_mask.to_vec2::<u32>().unwrap(),
        ids(&g["encoded"]["attention_mask"])
    );

    let logits = model.forward(&batch(&g["encoded"]), &Mode::Eval).unwrap();
    // 2e-5 also tells exact (erf) GELU from the tanh approximation.
    assert_close(&logits.to_vec2().unwrap(), &g["logits"], 2e-5, "logits");
}

fn check_three_steps(arch: &str) {
    let g = golden(arch);
    let tr = &g["train"];
    let dir = common::tiny_model(arch);
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();

    // Trainer's parameter groups.
    let decay: Vec<String> = serde_json::from_value(g["decay_parameters"].clone()).unwrap();
    for (name, _) in model.vars() {
        assert_eq!(decays(name), decay.contains(name), "decay group of {name}");
    }
    assert_eq!(
        model.vars().len(),
        decay.len() + g["no_decay_parameters"].as_array().unwrap().len()
    );

    let mut opt = AdamW::new(model.vars(), tr["weight_decay"].as_f64().unwrap()).unwrap();
    let total = tr["total_steps"].as_u64().unwrap() as usize;
    let base_lr = tr["lr"].as_f64().unwrap();
    for (i, b) in tr["batches"].as_array().unwrap().iter().enumerate() {
        let lr = linear_lr(base_lr, i, 0, total);
        assert!(
            (lr - tr["lr_per_step"][i].as_f64().unwrap()).abs() < 1e-12,
            "lr at step {i}"
        );
        let labels: Vec<u32> = serde_json::from_value(b["labels"].clone()).unwrap();
        let n = labels.len();
        let targets = Tensor::from_vec(labels, n, &Device::Cpu).unwrap();
        let (loss, norm) = train_step(
            &model,
            &mut opt,
            &batch(b),
            &targets,
            lr,
            1.0,
            &Mode::Eval,
            i + 1,
        )
        .unwrap();
        let want_loss = tr["loss_per_step"][i].as_f64().unwrap() as f32;
        let want_norm = tr["grad_norm_per_step"][i].as_f64().unwrap() as f32;
        assert!(
            (loss - want_loss).abs() < 1e-4,
            "loss at step {i}: {loss} vs {want_loss}"
        );
        assert!(
            (norm - want_norm).abs() < 1e-3 * want_norm.max(1.0),
            "grad norm at step {i}: {norm} vs {want_norm}"
        );
    }

    let logits = model.forward(&batch(&g["encoded"]), &Mode::Eval).unwrap();
    assert_close(
        &logits.to_vec2().unwrap(),
        &tr["logits_after"],
        1e-3,
        "logits after 3 steps",
    );

    // Every parameter, except attention key biases whose true gradient is exactly 0
    // (softmax is shift-invariant): both sides only move them by rounding noise.
    let after = candle_core::safetensors::load(
        dir.parent().unwrap().join("after_3_steps.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let noise: Vec<String> =
        serde_json::from_value(g["gradient_noise_parameters"].clone()).unwrap();
    for (name, var) in model.vars() {
        let want = &after[name];
        let diff = (var.as_tensor() - want)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let tol = if noise.contains(name) { 2e-4 } else { 1e-4 };
        assert!(
            diff <= tol,
            "{name}: max abs difference {diff} after 3 steps"
        );
    }
}

/// A whole run as the Trainer makes it (its optimiser groups, warm-up then linear
/// decay, clipping, a ragged last batch in every epoch, 112 steps), dropout off and the
/// rows in file order every epoch: every step's learning rate, loss and gradient norm,
/// and the logits at the end, track the Trainer's. Errors compound over the run, so
/// the loss tolerance is looser than the 3-step test's; a wrong schedule, step count,
/// decay group or clipping shifts the curve by far more. `packed`: padding-free
/// batches (what CPU training feeds), else padded ones (other devices).
fn check_long_horizon(arch: &str, packed: bool) {
    let dir = common::tiny_model(arch);
    let path = dir.parent().unwrap().join("long_horizon.json");
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let rows = g["rows"].as_array().unwrap();
    let texts: Vec<String> = rows
        .iter()
        .map(|r| r["text"].as_str().unwrap().into())
        .collect();
    let encoded = encoder.encode(&texts).unwrap();
    for (e, r) in encoded.iter().zip(rows) {
        assert_eq!(
            e.ids,
            ids_of(&r["input_ids"]),
            "token ids of {:?}",
            r["text"]
        );
    }
    let labels: Vec<u32> = rows
        .iter()
        .map(|r| {
            let name = r["label"].as_str().unwrap();
            model.labels().iter().position(|l| l == name).unwrap() as u32
        })
        .collect();

    let batch_size = g["batch_size"].as_u64().unwrap() as usize;
    let epochs = g["epochs"].as_u64().unwrap() as usize;
    let per_epoch = steps_per_epoch(rows.len(), batch_size);
    let total = per_epoch * epochs;
    assert_eq!(total, g["steps"].as_u64().unwrap() as usize, "step count");
    let (base_lr, warmup) = (
        g["lr"].as_f64().unwrap(),
        g["warmup_steps"].as_u64().unwrap(),
    );
    let mut opt = AdamW::new(model.vars(), g["weight_decay"].as_f64().unwrap()).unwrap();
    let (mut worst_loss, mut worst_norm) = (0f32, 0f32);
    for step in 0..total {
        let lr = linear_lr(base_lr, step, warmup as usize, total);
        let want_lr = g["lr_per_step"][step].as_f64().unwrap();
        assert!(
            (lr - want_lr).abs() < 1e-12,
            "lr at step {step}: {lr} vs {want_lr}"
        );
        let first = (step % per_epoch) * batch_size;
        let range = first..(first + batch_size).min(rows.len());
        let items: Vec<_> = encoded[range.clone()].iter().collect();
        let batch = if packed {
            encoder.collate_packed(&items, &Device::Cpu).unwrap()
        } else {
            encoder.collate(&items, &Device::Cpu).unwrap()
        };
        let targets = Tensor::new(&labels[range], &Device::Cpu).unwrap();
        let max_norm = g["max_grad_norm"].as_f64().unwrap();
        let (loss, norm) = train_step(
            &model,
            &mut opt,
            &batch,
            &targets,
            lr,
            max_norm,
            &Mode::Eval,
            step + 1,
        )
        .unwrap();
        let want_loss = g["loss_per_step"][step].as_f64().unwrap() as f32;
        let want_norm = g["grad_norm_per_step"][step].as_f64().unwrap() as f32;
        worst_loss = worst_loss.max((loss - want_loss).abs());
        worst_norm = worst_norm.max((norm - want_norm).abs() / want_norm.max(1.0));
        assert!(
            (loss - want_loss).abs() < 1e-3,
            "loss at step {step}: {loss} vs the Trainer's {want_loss}"
        );
        assert!(
            (norm - want_norm).abs() < 1e-2 * want_norm.max(1.0),
            "grad norm at step {step}: {norm} vs the Trainer's {want_norm}"
        );
    }
    eprintln!("{arch} (packed: {packed}): {total} steps, worst loss difference {worst_loss:.2e}, worst relative norm difference {worst_norm:.2e}");
    let eval_texts: Vec<String> = serde_json::from_value(g["eval_texts"].clone()).unwrap();
    let eval = encoder.encode(&eval_texts).unwrap();
    let batch = encoder
        .collate(&eval.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let logits = model.forward(&batch, &Mode::Eval).unwrap();
    assert_close(
        &logits.to_vec2().unwrap(),
        &g["logits_after"],
        1e-2,
        "logits after the run",
    );
}

fn ids_of(v: &Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn distilbert_run_of_112_steps_tracks_the_trainer() {
    check_long_horizon("distilbert", false);
}

#[test]
fn bert_run_of_112_steps_tracks_the_trainer() {
    check_long_horizon("bert", false);
}

#[test]
fn distilbert_run_of_112_padding_free_steps_tracks_the_trainer() {
    check_long_horizon("distilbert", true);
}

#[test]
fn bert_run_of_112_padding_free_steps_tracks_the_trainer() {
    check_long_horizon("bert", true);
}

#[test]
fn roberta_run_of_112_steps_tracks_the_trainer() {
    check_long_horizon("roberta", false);
}

#[test]
fn roberta_run_of_112_padding_free_steps_tracks_the_trainer() {
    check_long_horizon("roberta", true);
}

#[test]
fn xlm_roberta_run_of_112_padding_free_steps_tracks_the_trainer() {
    check_long_horizon("xlm_roberta", true);
}

/// A padding-free batch gives the logits of the padded one, first-token-only last
/// layer included, and the same for a single row.
#[test]
fn padding_free_batches_give_the_padded_logits() {
    for arch in ["distilbert", "bert", "roberta", "xlm_roberta"] {
        let g = golden(arch);
        let dir = common::tiny_model(arch);
        let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
        let encoder = TextEncoder::load(&dir, 64).unwrap();
        let texts: Vec<String> = serde_json::from_value(g["texts"].clone()).unwrap();
        let encoded = encoder.encode(&texts).unwrap();
        for rows in [encoded.iter().collect::<Vec<_>>(), vec![&encoded[2]]] {
            let padded = encoder.collate(&rows, &Device::Cpu).unwrap();
            let packed = encoder.collate_packed(&rows, &Device::Cpu).unwrap();
            let a: Vec<Vec<f32>> = model
                .forward(&padded, &Mode::Eval)
                .unwrap()
                .to_vec2()
                .unwrap();
            let b: Vec<Vec<f32>> = model
                .forward(&packed, &Mode::Eval)
                .unwrap()
                .to_vec2()
                .unwrap();
            assert_eq!(a[0].len(), b[0].len());
            let b = serde_json::to_value(b).unwrap();
            assert_close(&a, &b, 1e-5, &format!("{arch}: padding-free logits"));
        }
    }
}

#[test]
fn distilbert_logits_match_transformers() {
    check_logits("distilbert");
}

#[test]
fn bert_logits_match_transformers() {
    check_logits("bert");
}

#[test]
fn distilbert_three_adamw_steps_match_transformers() {
    check_three_steps("distilbert");
}

#[test]
fn bert_three_adamw_steps_match_transformers() {
    check_three_steps("bert");
}

#[test]
fn roberta_logits_match_transformers() {
    check_logits("roberta");
}

#[test]
fn xlm_roberta_logits_match_transformers() {
    check_logits("xlm_roberta");
}

#[test]
fn roberta_three_adamw_steps_match_transformers() {
    check_three_steps("roberta");
}

#[test]
fn xlm_roberta_three_adamw_steps_match_transformers() {
    check_three_steps("xlm_roberta");
}

#[test]
fn deberta_v2_logits_match_transformers() {
    check_logits("deberta_v2");
}

#[test]
fn deberta_v2_three_adamw_steps_match_transformers() {
    check_three_steps("deberta_v2");
}

/// Padded batches: DeBERTa does not take padding-free ones.
#[test]
fn deberta_v2_run_of_112_steps_tracks_the_trainer() {
    check_long_horizon("deberta_v2", false);
}

#[test]
fn modernbert_logits_match_transformers() {
    check_logits("modernbert");
}

#[test]
fn modernbert_three_adamw_steps_match_transformers() {
    check_three_steps("modernbert");
}

/// Padded batches: ModernBERT does not take padding-free ones.
#[test]
fn modernbert_run_of_112_steps_tracks_the_trainer() {
    check_long_horizon("modernbert", false);
}

/// An old-style checkpoint of the same BERT weights: `pytorch_model.bin`, no `bert.`
/// prefix, `LayerNorm.gamma/beta` names, tokenizer only as `vocab.txt`.
#[test]
fn legacy_bert_checkpoint_gives_the_same_ids_and_logits() {
    let g = golden("bert");
    let dir = common::tiny_model("bert_legacy");
    assert!(!dir.join("model.safetensors").exists() && !dir.join("tokenizer.json").exists());
    let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
    assert!(
        model.newly_initialised().is_empty(),
        "{:?}",
        model.newly_initialised()
    );
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let texts: Vec<String> = serde_json::from_value(g["texts"].clone()).unwrap();
    let encoded = encoder.encode(&texts).unwrap();
    let ours = encoder
        .collate(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    assert_eq!(
        ours.input_ids.to_vec2::<u32>().unwrap(),
        ids(&g["encoded"]["input_ids"])
    );
    let logits = model.forward(&ours, &Mode::Eval).unwrap();
    assert_close(
        &logits.to_vec2().unwrap(),
        &g["logits"],
        2e-5,
        "legacy logits",
    );
}

#[test]
fn truncation_is_flagged_per_text() {
    let g = golden("bert");
    let texts: Vec<String> = serde_json::from_value(g["texts"].clone()).unwrap();
    let full: Vec<Vec<u32>> = ids(&g["encoded"]["attention_mask"]);
    let lengths: Vec<usize> = full
        .iter()
        .map(|m| m.iter().filter(|&&x| x == 1).count())
        .collect();
    let encoder = TextEncoder::load(&common::tiny_model("bert"), 10).unwrap();
    for (e, len) in encoder.encode(&texts).unwrap().iter().zip(lengths) {
        assert_eq!(e.truncated, len > 10, "{len} tokens");
        assert_eq!(e.ids.len(), len.min(10));
    }
}
