//! Class weights for the training loss, from the training rows' class sizes, and the
//! cross-entropy that uses them (torch's `CrossEntropyLoss(weight=w)`, mean reduction).

use crate::error::Result;
use crate::settings::{ClassWeights, EFFECTIVE_BETA};
use candle_core::{Device, Tensor, D};

/// The weight of each of `classes` classes under `kind`, from the training rows'
/// class indices `labels` (`None` for [`ClassWeights::None`]). A class without
/// training rows never is a target; it gets weight 0 and is left out of K and of
/// the average.
pub fn class_weights(kind: ClassWeights, labels: &[u32], classes: usize) -> Option<Vec<f32>> {
    let mut counts = vec![0usize; classes];
    for &label in labels {
        if let Some(count) = counts.get_mut(label as usize) {
            *count += 1;
        }
    }
    let present = counts.iter().filter(|&&n| n > 0).count().max(1) as f64;
    let rows = labels.len() as f64;
    let raw: Vec<f64> = match kind {
        ClassWeights::None => return None,
        ClassWeights::Inverse => counts
            .iter()
            .map(|&n| {
                if n > 0 {
                    rows / (present * n as f64)
                } else {
                    0.0
                }
            })
            .collect(),
        ClassWeights::Effective => {
            let raw: Vec<f64> = counts
                .iter()
                .map(|&n| {
                    if n > 0 {
                        (1.0 - EFFECTIVE_BETA) / (1.0 - EFFECTIVE_BETA.powi(n as i32))
                    } else {
                        0.0
                    }
                })
                .collect();
            let mean = raw.iter().sum::<f64>() / present;
            raw.into_iter().map(|w| w / mean).collect()
        }
    };
    Some(raw.into_iter().map(|w| w as f32).collect())
}

/// `weights` as a tensor on `device`, if any.
pub fn weights_tensor(weights: Option<Vec<f32>>, device: &Device) -> Result<Option<Tensor>> {
    Ok(weights
        .map(|w| {
            let classes = w.len();
            Tensor::from_vec(w, classes, device)
        })
        .transpose()?)
}

/// Mean cross-entropy of `logits` `(rows, classes)` against class indices `targets`;
/// with `weights` `(classes)`, each row's loss weighs its class's weight and the sum
/// is divided by the weights' sum: Σ w_{y_i} · nll_i / Σ w_{y_i}, as torch's
/// `CrossEntropyLoss(weight=w)`. Without weights it is candle's cross-entropy,
/// unchanged.
pub fn cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
) -> Result<Tensor> {
    let Some(weights) = weights else {
        return Ok(candle_nn::loss::cross_entropy(logits, targets)?);
    };
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_p.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    let row_weights = weights.to_dtype(log_p.dtype())?.index_select(targets, 0)?;
    let total = (picked * &row_weights)?.sum_all()?.neg()?;
    Ok((total / row_weights.sum_all()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn weighted_loss_is_torchs_weighted_mean_on_a_hand_computed_case() {
        // Row 1: logits (0, 0), class 0: nll = ln 2. Row 2: logits (0, ln 3), class 1:
        // p = 3/4, nll = ln 4/3. Weights (1, 3): (1·ln 2 + 3·ln 4/3) / (1 + 3).
        let logits = Tensor::new(&[[0f32, 0.0], [0.0, 3f32.ln()]], &Device::Cpu).unwrap();
        let targets = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
        let weights = Tensor::new(&[1f32, 3.0], &Device::Cpu).unwrap();
        let got = cross_entropy(&logits, &targets, Some(&weights))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64;
        let want = (2f64.ln() + 3.0 * (4f64 / 3.0).ln()) / 4.0;
        assert!(close(got, want), "{got} vs {want}");
        // Equal weights are the plain mean, which is candle's cross-entropy.
        let ones = Tensor::new(&[2f32, 2.0], &Device::Cpu).unwrap();
        let equal = cross_entropy(&logits, &targets, Some(&ones))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64;
        let plain = cross_entropy(&logits, &targets, None)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64;
        assert!(close(equal, plain) && close(plain, (2f64.ln() + (4f64 / 3.0).ln()) / 2.0));
    }

    #[test]
    fn weights_follow_the_class_sizes() {
        // Class sizes 6, 3, 1 and one class without rows.
        let labels = [0u32, 0, 0, 0, 0, 0, 1, 1, 1, 2];
        assert_eq!(class_weights(ClassWeights::None, &labels, 4), None);
        let inverse = class_weights(ClassWeights::Inverse, &labels, 4).unwrap();
        // N / (K · n_c) with N = 10, K = 3 classes that have rows.
        for (got, want) in inverse
            .iter()
            .zip([10.0 / 18.0, 10.0 / 9.0, 10.0 / 3.0, 0.0])
        {
            assert!(close(*got as f64, want), "{inverse:?}");
        }
        let effective = class_weights(ClassWeights::Effective, &labels, 4).unwrap();
        let raw = |n: i32| (1.0 - EFFECTIVE_BETA) / (1.0 - EFFECTIVE_BETA.powi(n));
        let mean = (raw(6) + raw(3) + raw(1)) / 3.0;
        for (got, want) in effective
            .iter()
            .zip([raw(6) / mean, raw(3) / mean, raw(1) / mean, 0.0])
        {
            assert!(close(*got as f64, want), "{effective:?}");
        }
        assert!(close(
            effective.iter().map(|&w| w as f64).sum::<f64>() / 3.0,
            1.0
        ));
        assert!(effective[0] < effective[1] && effective[1] < effective[2]);
    }
}
