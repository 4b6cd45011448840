//! Every trainable tensor of the DistilBERT and BERT classifiers receives a gradient
//! from one backward pass (candle's fused LayerNorm/softmax would silently give none).

mod common;

use candle_core::{Device, Tensor};
use dialect::model::layers::{DropoutRng, Mode};
use dialect::model::params::HeadPolicy;
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;

fn check(arch: &str) {
    let dir = common::tiny_model(arch);
    let labels = vec![
        "a".to_string(),
        "b".to_string(),
        "c".to_string(),
        "d".to_string(),
    ];
    // Four labels: a new head is asked for and freshly initialised, as when
    // fine-tuning a base model.
    let model = SequenceClassifier::load_with_head(
        &dir,
        Some(labels),
        HeadPolicy::InitIfMismatched,
        &Device::Cpu,
        7,
    )
    .unwrap();
    assert_eq!(
        model.newly_initialised(),
        ["classifier.weight", "classifier.bias"]
    );
    let encoder = TextEncoder::load(&dir, 64).unwrap();
    let texts: Vec<String> = [
        "the app crashes when i click login",
        "please add dark mode",
        "how do i reset my password",
        "sync is slow",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let encoded = encoder.encode(&texts).unwrap();
    let batch = encoder
        .collate(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let rng = DropoutRng::new(1);
    let logits = model.forward(&batch, &Mode::Train(&rng)).unwrap();
    let targets = Tensor::new(&[0u32, 1, 2, 3], &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &targets).unwrap();
    let grads = loss.backward().unwrap();
    for (name, var) in model.vars() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name} received no gradient"));
        let norm = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .sqrt()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(norm.is_finite(), "{name}: gradient norm {norm}");
        // The attention key bias shifts every score of a query equally, which softmax
        // ignores: its true gradient is exactly 0 (in transformers too). Everything
        // else must get a real gradient.
        if name.contains("attention.self.key.bias") || name.contains("attention.k_lin.bias") {
            assert!(norm < 1e-5, "{name}: {norm}");
        } else {
            assert!(norm > 1e-7, "{name} received a zero gradient");
        }
    }
}

#[test]
fn every_distilbert_tensor_gets_a_gradient() {
    check("distilbert");
}

#[test]
fn every_bert_tensor_gets_a_gradient() {
    check("bert");
}
