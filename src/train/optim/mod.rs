//! AdamW with transformers Trainer's parameter grouping (no weight decay for biases
//! and LayerNorm weights), global-norm gradient clipping, and the linear schedule. Its
//! fused updates are beside it: `cpu` (host moments, one pass) and `cuda` (every
//! parameter in one launch).

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;

use crate::error::{EngineError, Result};
use candle_core::{backprop::GradStore, DType, Device, Tensor, Var};
use cpu::{FusedAdamW, Update};
use std::cell::RefCell;
use std::collections::HashMap;

/// Adam β₁, β₂ and ε as transformers' Trainer uses them.
pub const BETAS: (f64, f64) = (0.9, 0.999);
/// Adam ε.
pub const EPS: f64 = 1e-8;

/// Whether transformers' Trainer applies weight decay to the parameter `name`:
/// everything except biases and LayerNorm weights (`LayerNorm.`, `*_norm.`, and a
/// `norm.` part, as ModernBERT names its norms).
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias")
        || name.contains("LayerNorm.")
        || name.contains("_norm.")
        || name.contains(".norm.")
        || name.starts_with("norm."))
}

/// Optimiser steps in one epoch over `rows` rows: the last batch may be short, as the
/// Trainer's data loader keeps it (no `drop_last`).
pub fn steps_per_epoch(rows: usize, batch_size: usize) -> usize {
    rows.div_ceil(batch_size.max(1))
}

/// Learning rate at 0-based step `step`: linear warmup over `warmup` steps, then linear
/// decay to 0 at `total` (transformers' `get_linear_schedule_with_warmup`).
pub fn linear_lr(base: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return base * step as f64 / warmup.max(1) as f64;
    }
    let remaining = total.saturating_sub(step) as f64;
    let span = total.saturating_sub(warmup).max(1) as f64;
    base * (remaining / span).max(0.0)
}

/// Adam moments: host vectors updated in one fused pass on CPU, device buffers updated
/// by one kernel launch for all parameters on CUDA, device tensors elsewhere.
enum Moments {
    Host {
        m: Vec<f32>,
        v: Vec<f32>,
    },
    /// Held by the one-launch CUDA optimiser ([`AdamW`]'s `fused_cuda`).
    #[cfg(feature = "cuda")]
    FusedCuda,
    Device {
        m: Tensor,
        v: Tensor,
    },
}

struct Slot {
    var: Var,
    moments: Moments,
    weight_decay: f64,
}

/// AdamW (decoupled weight decay, bias-corrected moments) over named variables.
pub struct AdamW {
    slots: Vec<Slot>,
    step: i32,
    #[cfg(feature = "cuda")]
    fused_cuda: Option<cuda::MultiAdamW>,
}

impl AdamW {
    /// Optimiser for `vars` with `weight_decay` on the decaying group (see [`decays`]).
    pub fn new(vars: &[(String, Var)], weight_decay: f64) -> Result<Self> {
        Self::with_fusion(vars, weight_decay, true)
    }

    /// As [`AdamW::new`]; `fuse` allows the one-pass update for f32 CPU parameters.
    fn with_fusion(vars: &[(String, Var)], weight_decay: f64, fuse: bool) -> Result<Self> {
        let slots = vars
            .iter()
            .map(|(name, var)| {
                let fused = fuse && var.dtype() == DType::F32;
                let n = var.elem_count();
                let moments = match var.device() {
                    Device::Cpu if fused => Moments::Host {
                        m: vec![0.0; n],
                        v: vec![0.0; n],
                    },
                    #[cfg(feature = "cuda")]
                    Device::Cuda(_) if fused => Moments::FusedCuda,
                    _ => Moments::Device {
                        m: var.zeros_like()?,
                        v: var.zeros_like()?,
                    },
                };
                Ok(Slot {
                    var: var.clone(),
                    moments,
                    weight_decay: if decays(name) { weight_decay } else { 0.0 },
                })
            })
            .collect::<Result<Vec<Slot>>>()?;
        #[cfg(feature = "cuda")]
        let fused_cuda = match vars.first().map(|(_, v)| v.device()) {
            Some(Device::Cuda(cuda))
                if slots
                    .iter()
                    .all(|s| matches!(s.moments, Moments::FusedCuda)) =>
            {
                Some(cuda::MultiAdamW::new(
                    cuda,
                    slots.iter().map(|s| s.var.as_tensor().clone()).collect(),
                    slots.iter().map(|s| s.weight_decay as f32).collect(),
                )?)
            }
            _ => None,
        };
        Ok(Self {
            slots,
            step: 0,
            #[cfg(feature = "cuda")]
            fused_cuda,
        })
    }

    /// Each slot's gradient in `grads`, in slot order.
    #[cfg(feature = "cuda")]
    fn slot_grads<'g>(&self, grads: &'g GradStore) -> Vec<Option<&'g Tensor>> {
        self.slots
            .iter()
            .map(|s| grads.get(s.var.as_tensor()))
            .collect()
    }

    /// The optimiser's state for a checkpoint: the step count and each variable's
    /// moments named `m.<index>` / `v.<index>` (slot order), host moments borrowed as
    /// they are. `None` where the state lives in the one-launch CUDA optimiser, which
    /// cannot export it.
    pub fn state(&self) -> Result<Option<OptimizerState<'_>>> {
        let mut tensors = Vec::with_capacity(self.slots.len() * 2);
        for (i, slot) in self.slots.iter().enumerate() {
            let shape = slot.var.dims();
            let (m, v) = match &slot.moments {
                Moments::Host { m, v } => (Moment::Host(shape, m), Moment::Host(shape, v)),
                Moments::Device { m, v } => (
                    Moment::Copied(m.to_device(&Device::Cpu)?),
                    Moment::Copied(v.to_device(&Device::Cpu)?),
                ),
                #[cfg(feature = "cuda")]
                Moments::FusedCuda => return Ok(None),
            };
            tensors.push((format!("m.{i}"), m));
            tensors.push((format!("v.{i}"), v));
        }
        Ok(Some((self.step, tensors)))
    }

    /// Restore a [`AdamW::state`] taken from an optimiser over the same variables.
    /// A state that does not fit (other variables or shapes) is an error naming it.
    pub fn restore(&mut self, step: i32, tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let shape = slot.var.shape().clone();
            let get = |kind: &str| -> Result<Tensor> {
                let name = format!("{kind}.{i}");
                let t = tensors.get(&name).ok_or_else(|| {
                    EngineError::Config(format!("optimiser state has no tensor '{name}'"))
                })?;
                if t.shape() != &shape {
                    return Err(EngineError::Config(format!(
                        "optimiser state tensor '{name}' has shape {:?}, expected {:?}",
                        t.dims(),
                        shape.dims()
                    )));
                }
                Ok(t.to_dtype(DType::F32)?)
            };
            let (m, v) = (get("m")?, get("v")?);
            match &mut slot.moments {
                Moments::Host { m: hm, v: hv } => {
                    *hm = m.flatten_all()?.to_vec1::<f32>()?;
                    *hv = v.flatten_all()?.to_vec1::<f32>()?;
                }
                Moments::Device { m: dm, v: dv } => {
                    let device = slot.var.device();
                    *dm = m.to_dtype(slot.var.dtype())?.to_device(device)?;
                    *dv = v.to_dtype(slot.var.dtype())?.to_device(device)?;
                }
                #[cfg(feature = "cuda")]
                Moments::FusedCuda => {
                    return Err(EngineError::Config(
                        "resuming on a CUDA GPU is not supported yet: resume on the CPU".into(),
                    ))
                }
            }
        }
        self.step = step;
        Ok(())
    }

    /// Global L2 norm of the gradients (a scalar tensor, kept on the device).
    pub fn grad_norm(&mut self, grads: &GradStore) -> Result<Tensor> {
        #[cfg(feature = "cuda")]
        if self.fused_cuda.is_some() {
            let slot_grads = self.slot_grads(grads);
            if let Some(fused) = &mut self.fused_cuda {
                return Ok(fused.grad_norm(&slot_grads)?);
            }
        }
        let mut squares = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            if let Some(g) = grads.get(slot.var.as_tensor()) {
                squares.push(g.sqr()?.sum_all()?);
            }
        }
        Ok(Tensor::stack(&squares, 0)?.sum_all()?.sqrt()?)
    }

    /// One update with learning rate `lr`. Gradients are first scaled so that their
    /// global norm is at most `max_norm` (torch's `clip_grad_norm_`), using `norm` from
    /// [`AdamW::grad_norm`]. Everything stays on the device.
    pub fn step(&mut self, grads: &GradStore, norm: &Tensor, max_norm: f64, lr: f64) -> Result<()> {
        self.step += 1;
        let (b1, b2) = BETAS;
        let bc1 = 1.0 - b1.powi(self.step);
        let bc2 = 1.0 - b2.powi(self.step);
        let step_size = lr / bc1;
        #[cfg(feature = "cuda")]
        if self.fused_cuda.is_some() {
            let slot_grads = self.slot_grads(grads);
            let step = cuda::AdamWStep {
                lr: lr as f32,
                max_norm: max_norm as f32,
                b1: b1 as f32,
                b2: b2 as f32,
                step_size: step_size as f32,
                bc2_sqrt: bc2.sqrt() as f32,
                eps: EPS as f32,
            };
            if let Some(fused) = &mut self.fused_cuda {
                return Ok(fused.step(&slot_grads, norm, &step)?);
            }
        }
        let clip_factor =
            || -> Result<Tensor> { Ok(((norm + 1e-6)?.recip()? * max_norm)?.clamp(0.0, 1.0)?) };
        // On CPU the clip factor is read once and the whole update is one fused pass.
        let host_clip = match self.slots.first().map(|s| &s.moments) {
            Some(Moments::Host { .. }) => {
                Some(clip_factor()?.to_dtype(DType::F32)?.to_scalar::<f32>()?)
            }
            _ => None,
        };
        let mut device_clip: Option<Tensor> = None;
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            match &mut slot.moments {
                Moments::Host { m, v } => {
                    let update = FusedAdamW {
                        m: RefCell::new(m),
                        v: RefCell::new(v),
                        update: Update {
                            clip: host_clip.unwrap_or(1.0),
                            decay: (1.0 - lr * slot.weight_decay) as f32,
                            b1: b1 as f32,
                            b2: b2 as f32,
                            step_size: step_size as f32,
                            bc2_sqrt: bc2.sqrt() as f32,
                        },
                    };
                    slot.var
                        .as_tensor()
                        .inplace_op2(&g.contiguous()?, &update)?;
                }
                #[cfg(feature = "cuda")]
                Moments::FusedCuda => {}
                Moments::Device { m, v } => {
                    let clip = match &device_clip {
                        Some(clip) => clip.clone(),
                        None => device_clip.insert(clip_factor()?).clone(),
                    };
                    let g = g.broadcast_mul(&clip)?;
                    let mut theta = slot.var.as_tensor().clone();
                    if slot.weight_decay > 0.0 {
                        theta = (theta * (1.0 - lr * slot.weight_decay))?;
                    }
                    *m = ((&*m * b1)? + (&g * (1.0 - b1))?)?;
                    *v = ((&*v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
                    let denom = ((v.sqrt()? / bc2.sqrt())? + EPS)?;
                    let update = (m.div(&denom)? * step_size)?;
                    slot.var.set(&theta.sub(&update)?)?;
                }
            }
        }
        Ok(())
    }
}

/// [`AdamW::state`]: the step count and the named moments.
pub type OptimizerState<'a> = (i32, Vec<(String, Moment<'a>)>);

/// One Adam moment of [`AdamW::state`], as safetensors writes it: a host vector
/// borrowed with its variable's shape, or a tensor copied from the device.
pub enum Moment<'a> {
    /// A CPU moment: its variable's shape and its values, borrowed.
    Host(&'a [usize], &'a [f32]),
    /// A device moment, copied to the CPU.
    Copied(Tensor),
}

impl safetensors::View for Moment<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        match self {
            Moment::Host(..) => safetensors::Dtype::F32,
            Moment::Copied(t) => safetensors::View::dtype(t),
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Moment::Host(shape, _) => shape,
            Moment::Copied(t) => t.dims(),
        }
    }

    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Moment::Host(_, values) if cfg!(target_endian = "little") => {
                // SAFETY: any f32 memory is valid as bytes (alignment 1, same length
                // in bytes); safetensors stores little-endian, as this host is.
                std::borrow::Cow::Borrowed(unsafe {
                    std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len() * 4)
                })
            }
            Moment::Host(_, values) => {
                std::borrow::Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect())
            }
            Moment::Copied(t) => safetensors::View::data(t),
        }
    }

    fn data_len(&self) -> usize {
        match self {
            Moment::Host(_, values) => values.len() * 4,
            Moment::Copied(t) => safetensors::View::data_len(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn grouping_matches_trainer() {
        assert!(decays("bert.encoder.layer.0.attention.self.query.weight"));
        assert!(decays("classifier.weight"));
        assert!(decays("bert.embeddings.word_embeddings.weight"));
        assert!(!decays("classifier.bias"));
        assert!(!decays("bert.embeddings.LayerNorm.weight"));
        assert!(!decays(
            "distilbert.transformer.layer.0.sa_layer_norm.weight"
        ));
        assert!(!decays(
            "distilbert.transformer.layer.0.output_layer_norm.weight"
        ));
        assert!(decays("model.layers.1.attn.Wqkv.weight"));
        assert!(decays("head.dense.weight"));
        assert!(!decays("model.embeddings.norm.weight"));
        assert!(!decays("model.layers.1.attn_norm.weight"));
        assert!(!decays("model.layers.1.mlp_norm.weight"));
        assert!(!decays("model.final_norm.weight"));
        assert!(!decays("head.norm.weight"));
    }

    #[test]
    fn linear_schedule_matches_transformers() {
        assert_eq!(linear_lr(1.0, 0, 0, 4), 1.0);
        assert_eq!(linear_lr(1.0, 1, 0, 4), 0.75);
        assert_eq!(linear_lr(1.0, 4, 0, 4), 0.0);
        assert_eq!(linear_lr(1.0, 1, 2, 6), 0.5);
        assert_eq!(linear_lr(1.0, 2, 2, 6), 1.0);
        assert_eq!(linear_lr(1.0, 4, 2, 6), 0.5);
    }

    #[test]
    fn first_step_moves_each_weight_by_about_lr() {
        // With bias correction, Adam's first step is lr·sign(g) (plus decay).
        let var = Var::from_slice(&[1.0f32, -2.0], 2, &Device::Cpu).unwrap();
        let loss = (var.as_tensor() * 3.0).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let vars = vec![("w.bias".to_string(), var.clone())];
        let mut opt = AdamW::new(&vars, 0.01).unwrap();
        let norm = opt.grad_norm(&grads).unwrap();
        assert!((norm.to_scalar::<f32>().unwrap() - 18f32.sqrt()).abs() < 1e-5);
        opt.step(&grads, &norm, 1.0, 0.1).unwrap();
        let w = var.as_tensor().to_vec1::<f32>().unwrap();
        assert!(
            (w[0] - 0.9).abs() < 1e-5 && (w[1] + 2.1).abs() < 1e-5,
            "{w:?}"
        );
    }

    #[test]
    fn fused_cpu_update_matches_the_tensor_update() {
        let make = || {
            let w = Var::from_slice(&[0.5f32, -1.0, 2.0, 0.1, -0.3, 0.7], (2, 3), &Device::Cpu)
                .unwrap();
            let b = Var::from_slice(&[0.2f32, -0.4], 2, &Device::Cpu).unwrap();
            vec![("l.weight".to_string(), w), ("l.bias".to_string(), b)]
        };
        let (a, b) = (make(), make());
        let mut fused = AdamW::with_fusion(&a, 0.01, true).unwrap();
        let mut plain = AdamW::with_fusion(&b, 0.01, false).unwrap();
        let x = Tensor::from_slice(&[1.0f32, -2.0, 0.5], (3, 1), &Device::Cpu).unwrap();
        for step in 0..4 {
            for (vars, opt) in [(&a, &mut fused), (&b, &mut plain)] {
                let y = vars[0]
                    .1
                    .as_tensor()
                    .matmul(&x)
                    .unwrap()
                    .squeeze(1)
                    .unwrap();
                let loss = (y + vars[1].1.as_tensor())
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap();
                let loss = (loss * (step as f64 + 1.0)).unwrap();
                let grads = loss.backward().unwrap();
                let norm = opt.grad_norm(&grads).unwrap();
                opt.step(&grads, &norm, 1.0, 0.05).unwrap();
            }
        }
        for ((_, va), (_, vb)) in a.iter().zip(&b) {
            let diff = (va.as_tensor() - vb.as_tensor())
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap();
            // Same arithmetic, different f32 rounding order.
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
        }
        assert!(matches!(fused.slots[0].moments, Moments::Host { .. }));
        assert!(matches!(plain.slots[0].moments, Moments::Device { .. }));
    }
}
