//! AdamW with transformers Trainer's parameter grouping (no weight decay for biases
//! and LayerNorm weights), global-norm gradient clipping, and the linear schedule.

use crate::error::Result;
use candle_core::{backprop::GradStore, Tensor, Var};

/// Adam β₁, β₂ and ε as transformers' Trainer uses them.
pub const BETAS: (f64, f64) = (0.9, 0.999);
/// Adam ε.
pub const EPS: f64 = 1e-8;

/// Whether transformers' Trainer applies weight decay to the parameter `name`:
/// everything except biases and LayerNorm weights.
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias")
        || name.contains("LayerNorm.")
        || name.contains("layer_norm.")
        || name.contains("_layer_norm."))
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

struct Slot {
    var: Var,
    m: Tensor,
    v: Tensor,
    weight_decay: f64,
}

/// AdamW (decoupled weight decay, bias-corrected moments) over named variables.
pub struct AdamW {
    slots: Vec<Slot>,
    step: i32,
}

impl AdamW {
    /// Optimiser for `vars` with `weight_decay` on the decaying group (see [`decays`]).
    pub fn new(vars: &[(String, Var)], weight_decay: f64) -> Result<Self> {
        let slots = vars
            .iter()
            .map(|(name, var)| {
                Ok(Slot {
                    var: var.clone(),
                    m: var.zeros_like()?,
                    v: var.zeros_like()?,
                    weight_decay: if decays(name) { weight_decay } else { 0.0 },
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { slots, step: 0 })
    }

    /// Global L2 norm of the gradients (a scalar tensor, kept on the device).
    pub fn grad_norm(&self, grads: &GradStore) -> Result<Tensor> {
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
        let clip = ((norm + 1e-6)?.recip()? * max_norm)?.clamp(0.0, 1.0)?;
        let (b1, b2) = BETAS;
        let bc1 = 1.0 - b1.powi(self.step);
        let bc2 = 1.0 - b2.powi(self.step);
        let step_size = lr / bc1;
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let g = g.broadcast_mul(&clip)?;
            let mut theta = slot.var.as_tensor().clone();
            if slot.weight_decay > 0.0 {
                theta = (theta * (1.0 - lr * slot.weight_decay))?;
            }
            slot.m = ((&slot.m * b1)? + (&g * (1.0 - b1))?)?;
            slot.v = ((&slot.v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let denom = ((slot.v.sqrt()? / bc2.sqrt())? + EPS)?;
            let update = (slot.m.div(&denom)? * step_size)?;
            slot.var.set(&theta.sub(&update)?)?;
        }
        Ok(())
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
}
