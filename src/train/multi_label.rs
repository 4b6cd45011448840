//! Multi-label training: binary cross-entropy with logits (a sigmoid per label) as
//! torch's `BCEWithLogitsLoss` computes it, the 0/1 target rows, and the settings
//! that only make sense for one class per ticket.

use crate::error::{EngineError, Result};
use crate::setting::Setting;
use crate::settings::{ClassWeights, Method, Sampler, TrainConfig};
use candle_core::{Device, Tensor, D};

/// Mean binary cross-entropy over rows × labels of `logits` against 0/1 `targets`
/// (same shape): `−(y·log σ(x) + (1−y)·log σ(−x))`, both log-sigmoids taken as a
/// log-softmax over `(0, x)` so that large logits neither overflow nor lose their
/// gradient.
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let targets = targets.to_dtype(logits.dtype())?;
    let pair = Tensor::stack(&[&logits.zeros_like()?, logits], D::Minus1)?;
    let log_p = candle_nn::ops::log_softmax(&pair, D::Minus1)?;
    let log_off = log_p.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?;
    let log_on = log_p.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?;
    let off = targets.affine(-1.0, 1.0)?;
    let per_cell = ((targets * log_on)? + (off * log_off)?)?;
    Ok(per_cell.mean_all()?.neg()?)
}

/// The 0/1 targets of `rows` as an f32 tensor of shape (rows, labels).
pub fn targets_tensor(rows: &[&Vec<bool>], labels: usize, device: &Device) -> Result<Tensor> {
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| r.iter().map(|&on| if on { 1.0 } else { 0.0 }))
        .collect();
    Ok(Tensor::from_vec(flat, (rows.len(), labels), device)?)
}

/// Refuse the settings that weigh or draw tickets by their one class (class weights,
/// the balanced sampler) and the baseline method, naming the setting.
pub fn refuse_single_label_settings(config: &TrainConfig) -> Result<()> {
    let refused = if config.class_weights != ClassWeights::None {
        Some((Setting::ClassWeights, "Class weights: set them to none"))
    } else if config.sampler == Sampler::Balanced {
        Some((Setting::Sampler, "Batch sampling: use shuffle"))
    } else if config.method == Method::Baseline {
        Some((
            Setting::Method,
            "Method: fine-tune (the baseline fits one class per ticket)",
        ))
    } else {
        None
    };
    match refused {
        Some((setting, fix)) => Err(EngineError::setting(
            setting,
            format!("this data has label sets (multi-label), which this setting does not support. {fix}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_gradient_match_hand_computed_values() {
        // Cells (x, y): (0, 1), (2, 0), (-1, 0), (3, 1). Loss per cell:
        // ln 2, 2 + ln(1+e^-2), ln(1+e^-1), ln(1+e^-3); mean over 4 cells.
        // Gradient per cell: (σ(x) − y) / 4.
        let logits = candle_core::Var::new(&[[0f32, 2.0], [-1.0, 3.0]], &Device::Cpu).unwrap();
        let rows = [vec![true, false], vec![false, true]];
        let targets = targets_tensor(&rows.iter().collect::<Vec<_>>(), 2, &Device::Cpu).unwrap();
        let loss = bce_with_logits(logits.as_tensor(), &targets).unwrap();
        let want = (2f64.ln()
            + 2.0
            + (-2f64).exp().ln_1p()
            + (-1f64).exp().ln_1p()
            + (-3f64).exp().ln_1p())
            / 4.0;
        let got = loss.to_scalar::<f32>().unwrap() as f64;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        let host = crate::multi_label::bce_with_logits(
            &[vec![0.0, 2.0], vec![-1.0, 3.0]],
            &[vec![true, false], vec![false, true]],
        );
        assert!((host - want).abs() < 1e-9);
        let grads = loss.backward().unwrap();
        let grad = grads
            .get(logits.as_tensor())
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        let want_grad = [
            [(0.5 - 1.0) / 4.0, sigmoid(2.0) / 4.0],
            [sigmoid(-1.0) / 4.0, (sigmoid(3.0) - 1.0) / 4.0],
        ];
        for (got, want) in grad.iter().flatten().zip(want_grad.iter().flatten()) {
            assert!(
                (*got as f64 - want).abs() < 1e-6,
                "{grad:?} vs {want_grad:?}"
            );
        }
        // −0.125, 0.2202, 0.0672, −0.0119: the hand values, rounded.
        assert!((want_grad[0][1] - 0.22020).abs() < 1e-4);
    }

    #[test]
    fn large_logits_neither_overflow_nor_lose_their_gradient() {
        let logits = candle_core::Var::new(&[[80f32, -80.0]], &Device::Cpu).unwrap();
        let rows = [vec![false, true]];
        let targets = targets_tensor(&rows.iter().collect::<Vec<_>>(), 2, &Device::Cpu).unwrap();
        let loss = bce_with_logits(logits.as_tensor(), &targets).unwrap();
        assert!((loss.to_scalar::<f32>().unwrap() - 80.0).abs() < 1e-3);
        let grad = loss.backward().unwrap();
        let grad = grad
            .get(logits.as_tensor())
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert!(
            (grad[0][0] - 0.5).abs() < 1e-6 && (grad[0][1] + 0.5).abs() < 1e-6,
            "{grad:?}"
        );
    }

    #[test]
    fn settings_for_one_class_per_ticket_are_refused_by_name() {
        assert!(refuse_single_label_settings(&TrainConfig::default()).is_ok());
        let weighted = TrainConfig {
            class_weights: ClassWeights::Inverse,
            ..TrainConfig::default()
        };
        let err = refuse_single_label_settings(&weighted).unwrap_err();
        assert_eq!(err.settings(), vec![Setting::ClassWeights]);
        assert!(err.to_string().contains("multi-label"), "{err}");
        let baseline = TrainConfig {
            method: Method::Baseline,
            ..TrainConfig::default()
        };
        let err = refuse_single_label_settings(&baseline).unwrap_err();
        assert_eq!(err.settings(), vec![Setting::Method]);
    }
}
