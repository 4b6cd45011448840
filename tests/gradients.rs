//! Every trainable tensor of the DistilBERT, BERT, RoBERTa-family, ModernBERT and DeBERTa
//! classifiers receives a gradient from one backward pass (candle's fused
//! LayerNorm/softmax would silently give none).

mod common;

use candle_core::{Device, Tensor};
use dialect::model::layers::{DropoutRng, Mode};
use dialect::model::params::HeadPolicy;
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;

/// `head`: the weight transformers' head for `arch` initialises for new classes.
fn check(arch: &str, head: &str) {
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
        [format!("{head}.weight"), format!("{head}.bias")]
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
    check("distilbert", "classifier");
}

#[test]
fn every_bert_tensor_gets_a_gradient() {
    check("bert", "classifier");
}

#[test]
fn every_roberta_tensor_gets_a_gradient() {
    check("roberta", "classifier.out_proj");
}

#[test]
fn every_xlm_roberta_tensor_gets_a_gradient() {
    check("xlm_roberta", "classifier.out_proj");
}

/// DeBERTa's key bias meets the position queries (position-to-content scores), which
/// differ from key to key: unlike BERT's, it gets a real gradient.
#[test]
fn every_deberta_v2_tensor_gets_a_gradient() {
    check("deberta_v2", "classifier");
}

#[test]
fn every_modernbert_tensor_gets_a_gradient() {
    check("modernbert", "classifier");
}

/// candle's backward as patched in `vendor/candle-core` (the first gradient reaching a
/// node is stored as it is): fan-in still sums, the right-hand sides of `-` and `/`
/// still come out negated, and reductions still broadcast back.
#[test]
fn patched_backward_sums_negates_and_broadcasts_as_before() {
    use candle_core::Var;
    let x = Var::new(&[1.0f32, 2.0, 4.0], &Device::Cpu).unwrap();
    let a = Tensor::new(&[3.0f32, 5.0, 7.0], &Device::Cpu).unwrap();
    let xt = x.as_tensor();
    // f = Σ (x + x) + Σ (a − x) + Σ (a / x) + max(x) + Σ x·x
    let f = ((xt + xt).unwrap().sum_all().unwrap()
        + (&a - xt).unwrap().sum_all().unwrap()
        + (&a / xt).unwrap().sum_all().unwrap()
        + xt.max(0).unwrap()
        + (xt * xt).unwrap().sum_all().unwrap())
    .unwrap();
    let grads = f.backward().unwrap();
    let got = grads.get(xt).unwrap().to_vec1::<f32>().unwrap();
    let want: Vec<f32> = [1.0f32, 2.0, 4.0]
        .iter()
        .zip([3.0f32, 5.0, 7.0])
        .enumerate()
        .map(|(i, (&x, a))| 2.0 - 1.0 - a / (x * x) + if i == 2 { 1.0 } else { 0.0 } + 2.0 * x)
        .collect();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-5, "gradient {got:?}, want {want:?}");
    }
    // A node's gradient reaching two inputs through one `+` (the same tensor stored
    // twice), then summed again.
    let y = Var::new(&[1.0f32, 1.0], &Device::Cpu).unwrap();
    let z = (y.as_tensor() * 3.0).unwrap();
    let g = (&z + &z).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(
        g.get(y.as_tensor()).unwrap().to_vec1::<f32>().unwrap(),
        [6.0, 6.0]
    );
}
