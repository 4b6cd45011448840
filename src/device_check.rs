//! A self-test of a compute device against the CPU: a small random BERT classifier runs
//! forward and backward on both from the same weights and batch, then AdamW updates
//! the weights from the same gradients; results must agree within the precision's
//! tolerance. Dropout's keep rate and mask reuse, and a few training steps that must
//! lower the loss, are checked on the device itself. This is what proves a GPU build's
//! fused kernels (layer norm, softmax, dropout, AdamW) right on the hardware at hand.

use crate::device::{device_name, enable_tensor_cores, supports_bf16, DeviceChoice};
use crate::error::Result;
use crate::model::layers::{DropoutRng, Mode};
use crate::model::params::normal;
use crate::model::{Batch, SequenceClassifier};
use crate::train::optim::AdamW;
use crate::train::train_step;
use candle_core::{DType, Device, Tensor, Var};
use rand::{rngs::StdRng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;

/// One comparison and whether it held.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckItem {
    pub name: String,
    pub passed: bool,
    /// The measured figure against its limit.
    pub detail: String,
}

/// The self-test of one device at one precision.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCheck {
    pub device: String,
    pub precision: String,
    pub items: Vec<CheckItem>,
}

impl DeviceCheck {
    /// Whether every comparison held.
    pub fn passed(&self) -> bool {
        self.items.iter().all(|i| i.passed)
    }
}

const SEED: u64 = 7;
const LABELS: usize = 3;

/// Check `choice` against the CPU in f32, and in bf16 where the device supports it.
pub fn check_device(choice: DeviceChoice) -> Result<Vec<DeviceCheck>> {
    let device = choice.open()?;
    enable_tensor_cores(&device);
    let mut dtypes = vec![DType::F32];
    if supports_bf16(&device) {
        dtypes.push(DType::BF16);
    }
    dtypes
        .into_iter()
        .map(|dtype| check_precision(&device, dtype))
        .collect()
}

fn check_precision(device: &Device, dtype: DType) -> Result<DeviceCheck> {
    // Relative tolerances: TF32 products keep ~10 mantissa bits, bf16 ones 7.
    let tol = if dtype == DType::BF16 { 0.08 } else { 0.01 };
    let weights = random_bert()?;
    let cpu = tiny_model(&weights, &Device::Cpu, DType::F32)?;
    let dev = tiny_model(&weights, device, dtype)?;
    let mut items = Vec::new();

    let (cpu_batch, targets) = batch(&Device::Cpu)?;
    let (dev_batch, dev_targets) = batch(device)?;
    let cpu_logits = cpu.forward(&cpu_batch, &Mode::Eval)?;
    let dev_logits = dev.forward(&dev_batch, &Mode::Eval)?;
    items.push(within(
        "logits",
        relative_error(&dev_logits, &cpu_logits)?,
        tol,
    ));

    let cpu_loss = candle_nn::loss::cross_entropy(&cpu_logits, &targets)?;
    let dev_loss = candle_nn::loss::cross_entropy(&dev_logits, &dev_targets)?;
    let cpu_grads = cpu_loss.backward()?;
    let mut dev_grads = dev_loss.backward()?;
    // Errors are relative to each weight's gradient, but at least to a thousandth of
    // the largest: some gradients are zero in exact arithmetic (attention key biases
    // shift every score of a row alike) and differ only by rounding noise.
    let mut pairs = Vec::new();
    for ((name, cv), (_, dv)) in cpu.vars().iter().zip(dev.vars()) {
        if let (Some(cg), Some(dg)) = (cpu_grads.get(cv.as_tensor()), dev_grads.get(dv.as_tensor()))
        {
            pairs.push((name, cg, dg));
        }
    }
    let mut largest = 0.0f64;
    for (_, cg, _) in &pairs {
        largest = largest.max(l2(cg)?);
    }
    let mut worst = (0.0f64, String::new());
    for (name, cg, dg) in pairs {
        let err = distance(dg, cg)? / l2(cg)?.max(largest * 1e-3).max(1e-24);
        if err > worst.0 {
            worst = (err, name.clone());
        }
    }
    let mut grads = within("gradients (worst weight)", worst.0, tol * 2.0);
    if !worst.1.is_empty() {
        grads.detail += &format!(" at {}", worst.1);
    }
    items.push(grads);

    // The optimiser from identical gradients: the CPU's, copied to the device.
    for (cv, dv) in cpu.vars().iter().zip(dev.vars()) {
        if let Some(g) = cpu_grads.get(cv.1.as_tensor()) {
            dev_grads.insert(dv.1.as_tensor(), g.to_device(device)?);
        }
    }
    let mut cpu_opt = AdamW::new(cpu.vars(), 0.01)?;
    let mut dev_opt = AdamW::new(dev.vars(), 0.01)?;
    let cpu_norm = cpu_opt.grad_norm(&cpu_grads)?;
    let dev_norm = dev_opt.grad_norm(&dev_grads)?;
    items.push(within(
        "gradient norm",
        relative_error(&dev_norm, &cpu_norm)?,
        1e-4,
    ));
    let before: Vec<Tensor> = cpu
        .vars()
        .iter()
        .map(|(_, v)| v.as_tensor().copy())
        .collect::<candle_core::Result<_>>()?;
    for _ in 0..3 {
        cpu_opt.step(&cpu_grads, &cpu_norm, 0.5, 1e-3)?;
        dev_opt.step(&dev_grads, &dev_norm, 0.5, 1e-3)?;
    }
    let mut worst_update = 0.0f64;
    for ((cv, dv), w0) in cpu.vars().iter().zip(dev.vars()).zip(&before) {
        let cpu_delta = (cv.1.as_tensor() - w0)?;
        let dev_delta = (dv.1.as_tensor().to_device(&Device::Cpu)? - w0)?;
        worst_update = worst_update.max(relative_error(&dev_delta, &cpu_delta)?);
    }
    items.push(within("AdamW updates", worst_update, 1e-3));

    items.push(dropout_check(device, dtype)?);
    items.push(learns(device, dtype, &weights)?);
    Ok(DeviceCheck {
        device: device_name(device),
        precision: if dtype == DType::BF16 { "bf16" } else { "f32" }.into(),
        items,
    })
}

/// Dropout at p = 0.1 keeps about 90% of elements scaled by 1/0.9, and its gradient
/// is the same mask.
fn dropout_check(device: &Device, dtype: DType) -> Result<CheckItem> {
    let n = 200_000;
    let x = Var::from_tensor(&Tensor::ones(n, DType::F32, device)?)?;
    let rng = DropoutRng::new(SEED);
    let y = Mode::Train(&rng).dropout(&x.as_tensor().to_dtype(dtype)?, 0.1)?;
    let y = y.to_dtype(DType::F32)?;
    let kept = y
        .ne(0.0)?
        .to_dtype(DType::F32)?
        .mean_all()?
        .to_scalar::<f32>()?;
    let grads = y.sum_all()?.backward()?;
    let mask_reused = match grads.get(x.as_tensor()) {
        Some(g) => (g - &y)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-2,
        None => false,
    };
    let scale_ok = (y.max_all()?.to_scalar::<f32>()? - 1.0 / 0.9).abs() < 1e-2;
    Ok(CheckItem {
        name: "dropout".into(),
        passed: (kept - 0.9).abs() < 0.01 && mask_reused && scale_ok,
        detail: format!(
            "kept {:.2}% (want 90 ± 1), backward reuses the mask: {mask_reused}, scale 1/0.9: {scale_ok}",
            kept * 100.0
        ),
    })
}

/// Ten training steps with dropout on one batch must lower its loss.
fn learns(device: &Device, dtype: DType, weights: &Weights) -> Result<CheckItem> {
    let model = tiny_model(weights, device, dtype)?;
    let (b, targets) = batch(device)?;
    let mut opt = AdamW::new(model.vars(), 0.01)?;
    let rng = DropoutRng::new(SEED);
    let mut losses = Vec::new();
    for step in 1..=10 {
        let (loss, _) = train_step(
            &model,
            &mut opt,
            &b,
            &targets,
            3e-3,
            1.0,
            &Mode::Train(&rng),
            step,
        )?;
        losses.push(loss);
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    Ok(CheckItem {
        name: "training lowers the loss".into(),
        passed: last < first * 0.7,
        detail: format!("loss {first:.4} → {last:.4} in 10 steps (want < 70%)"),
    })
}

fn within(name: &str, error: f64, limit: f64) -> CheckItem {
    CheckItem {
        name: name.into(),
        passed: error <= limit,
        detail: format!("relative error {error:.2e} (limit {limit:.0e})"),
    }
}

/// ‖a − b‖ / ‖b‖, both read as f32 on the CPU.
fn relative_error(a: &Tensor, b: &Tensor) -> Result<f64> {
    Ok(distance(a, b)? / l2(b)?.max(1e-24))
}

/// ‖a − b‖, read as f32 on the CPU.
fn distance(a: &Tensor, b: &Tensor) -> Result<f64> {
    l2(&(on_cpu(a)? - on_cpu(b)?)?)
}

/// ‖a‖, read as f32 on the CPU.
fn l2(a: &Tensor) -> Result<f64> {
    Ok((on_cpu(a)?.sqr()?.sum_all()?.to_scalar::<f32>()? as f64).sqrt())
}

fn on_cpu(a: &Tensor) -> Result<Tensor> {
    Ok(a.to_device(&Device::Cpu)?
        .to_dtype(DType::F32)?
        .flatten_all()?)
}

type Weights = HashMap<String, Tensor>;

const HIDDEN: usize = 64;
const LAYERS: usize = 2;
const VOCAB: usize = 100;
const POSITIONS: usize = 32;

fn config() -> serde_json::Value {
    json!({
        "model_type": "bert", "vocab_size": VOCAB, "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS, "num_attention_heads": 4, "intermediate_size": 128,
        "max_position_embeddings": POSITIONS, "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "layer_norm_eps": 1e-12
    })
}

/// Seeded random weights for every encoder tensor of [`config`] (the head is
/// initialised by the loader, identically on both devices).
fn random_bert() -> Result<Weights> {
    let mut w = RandomWeights {
        rng: StdRng::seed_from_u64(SEED),
        tensors: HashMap::new(),
    };
    let (h, i) = (HIDDEN, 128);
    w.add(
        "bert.embeddings.word_embeddings.weight",
        &[VOCAB, h],
        0.0,
        0.5,
    )?;
    w.add(
        "bert.embeddings.position_embeddings.weight",
        &[POSITIONS, h],
        0.0,
        0.5,
    )?;
    w.add(
        "bert.embeddings.token_type_embeddings.weight",
        &[2, h],
        0.0,
        0.5,
    )?;
    w.layer_norm("bert.embeddings.LayerNorm")?;
    for l in 0..LAYERS {
        let p = format!("bert.encoder.layer.{l}");
        for (name, out, inp) in [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", i, h),
            ("output.dense", h, i),
        ] {
            w.add(&format!("{p}.{name}.weight"), &[out, inp], 0.0, 0.15)?;
            w.add(&format!("{p}.{name}.bias"), &[out], 0.0, 0.05)?;
        }
        w.layer_norm(&format!("{p}.attention.output.LayerNorm"))?;
        w.layer_norm(&format!("{p}.output.LayerNorm"))?;
    }
    Ok(w.tensors)
}

struct RandomWeights {
    rng: StdRng,
    tensors: Weights,
}

impl RandomWeights {
    /// A tensor of N(mean, std²) values.
    fn add(&mut self, name: &str, shape: &[usize], mean: f32, std: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| mean + std * normal(&mut self.rng)).collect();
        let t = Tensor::from_vec(values, shape, &Device::Cpu)?;
        self.tensors.insert(name.to_string(), t);
        Ok(())
    }

    /// A layer norm's weight (around 1) and bias (around 0).
    fn layer_norm(&mut self, name: &str) -> Result<()> {
        self.add(&format!("{name}.weight"), &[HIDDEN], 1.0, 0.1)?;
        self.add(&format!("{name}.bias"), &[HIDDEN], 0.0, 0.1)
    }
}

fn tiny_model(weights: &Weights, device: &Device, dtype: DType) -> Result<SequenceClassifier> {
    let labels = (0..LABELS).map(|i| format!("class{i}")).collect();
    let mut model = SequenceClassifier::from_parts(
        "device check",
        config(),
        || Ok(weights.clone()),
        Some(labels),
        device,
        SEED,
    )?;
    model.set_compute_dtype(dtype);
    Ok(model)
}

/// Four rows of 24 tokens, three of them padded, and their targets.
fn batch(device: &Device) -> Result<(Batch, Tensor)> {
    let (rows, len) = (4usize, 24usize);
    let lengths = [24usize, 17, 9, 3];
    let mut ids = Vec::with_capacity(rows * len);
    let mut mask = Vec::with_capacity(rows * len);
    for (r, &n) in lengths.iter().enumerate() {
        for t in 0..len {
            ids.push(if t < n {
                ((r * 31 + t * 17) % (VOCAB - 1) + 1) as u32
            } else {
                0
            });
            mask.push(u32::from(t < n));
        }
    }
    Ok((
        Batch {
            input_ids: Tensor::from_vec(ids, (rows, len), device)?,
            attention_mask: Tensor::from_vec(mask, (rows, len), device)?,
            token_type_ids: Tensor::zeros((rows, len), DType::U32, device)?,
            offsets: None,
        },
        Tensor::from_vec(vec![0u32, 1, 2, 0], rows, device)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_passes_its_own_check() {
        let checks = check_device(DeviceChoice::Cpu).unwrap();
        assert_eq!(checks.len(), 1);
        let check = &checks[0];
        assert_eq!(check.precision, "f32");
        assert!(check.passed(), "{check:#?}");
        assert_eq!(check.items.len(), 6);
    }

    #[test]
    fn tolerances_catch_real_differences() {
        let a = Tensor::new(&[1.0f32, 2.0, 3.0], &Device::Cpu).unwrap();
        let b = Tensor::new(&[1.0f32, 2.0, 3.5], &Device::Cpu).unwrap();
        let err = relative_error(&a, &b).unwrap();
        assert!(err > 0.1 && err < 0.2, "{err}");
        assert!(!within("x", err, 0.01).passed);
    }
}
