//! Confidence that means what it says: temperature scaling (one scalar `T`, fitted on
//! the validation rows by minimising the negative log-likelihood of `softmax(z / T)`),
//! and the expected calibration error before and after, with reliability bins. The
//! model's logits stay as they are; only the probabilities shown use `T`.

use serde::{Deserialize, Serialize};

/// Equal-width confidence bins of the expected calibration error.
pub const BINS: usize = 15;
/// The temperatures searched: `T` in [1/20, 20].
const LOG_T_RANGE: f64 = 2.995_732_273_553_991; // ln 20
/// Golden-section steps: the bracket shrinks to 0.618^80 of its width.
const SEARCH_STEPS: usize = 80;

/// One confidence bin: the rows whose top probability falls in `[lower, upper)`, their
/// mean top probability and the share of them predicted right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ReliabilityBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    pub confidence: f64,
    pub accuracy: f64,
}

/// A fitted temperature with what it does on the rows it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    /// Probabilities are `softmax(logits / temperature)`.
    pub temperature: f64,
    /// Rows it was fitted on (the validation split).
    pub rows: usize,
    /// Mean negative log-likelihood without and with the temperature.
    pub nll_before: f64,
    pub nll_after: f64,
    /// Expected calibration error ([`BINS`] equal-width bins) without and with it.
    pub ece_before: f64,
    pub ece_after: f64,
    pub bins_before: Vec<ReliabilityBin>,
    pub bins_after: Vec<ReliabilityBin>,
}

/// `softmax(logits / temperature)` in f64.
pub fn tempered_softmax(logits: &[f32], temperature: f64) -> Vec<f64> {
    let scaled: Vec<f64> = logits.iter().map(|&z| z as f64 / temperature).collect();
    let max = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scaled.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// The most probable class of `probs` and its probability (the first on ties).
pub fn top(probs: &[f64]) -> (usize, f64) {
    probs
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
            if p > best.1 {
                (i, p)
            } else {
                best
            }
        })
}

/// Mean negative log-likelihood of `truth` under `softmax(logits / temperature)`.
pub fn nll(logits: &[Vec<f32>], truth: &[usize], temperature: f64) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(truth)
        .map(|(row, &t)| {
            let scaled: Vec<f64> = row.iter().map(|&z| z as f64 / temperature).collect();
            let max = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = max + scaled.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            log_sum - scaled.get(t).copied().unwrap_or(f64::NEG_INFINITY)
        })
        .sum();
    total / logits.len().max(1) as f64
}

/// The temperature minimising [`nll`] over `T` in [1/20, 20] (golden-section search on
/// `ln T`: the likelihood is convex in `1/T`, so it has one minimum there). 1 when
/// there are no rows.
pub fn fit_temperature(logits: &[Vec<f32>], truth: &[usize]) -> f64 {
    if logits.is_empty() {
        return 1.0;
    }
    let f = |u: f64| nll(logits, truth, u.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (-LOG_T_RANGE, LOG_T_RANGE);
    let mut c = b - ratio * (b - a);
    let mut d = a + ratio * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..SEARCH_STEPS {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - ratio * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + ratio * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

/// The expected calibration error of `softmax(logits / temperature)` against `truth`
/// (the row-weighted mean gap between confidence and accuracy over [`BINS`] bins),
/// with the bins.
pub fn reliability(
    logits: &[Vec<f32>],
    truth: &[usize],
    temperature: f64,
) -> (f64, Vec<ReliabilityBin>) {
    let mut sums = vec![(0usize, 0.0f64, 0usize); BINS];
    for (row, &t) in logits.iter().zip(truth) {
        let (best, confidence) = top(&tempered_softmax(row, temperature));
        let bin = ((confidence * BINS as f64) as usize).min(BINS - 1);
        sums[bin].0 += 1;
        sums[bin].1 += confidence;
        sums[bin].2 += usize::from(best == t);
    }
    let rows = logits.len().max(1) as f64;
    let mut ece = 0.0;
    let bins = sums
        .into_iter()
        .enumerate()
        .map(|(i, (count, confidence, right))| {
            let n = count.max(1) as f64;
            let (confidence, accuracy) = (confidence / n, right as f64 / n);
            ece += count as f64 / rows * (confidence - accuracy).abs();
            ReliabilityBin {
                lower: i as f64 / BINS as f64,
                upper: (i + 1) as f64 / BINS as f64,
                count,
                confidence,
                accuracy,
            }
        })
        .collect();
    (ece, bins)
}

/// Fit the temperature on `logits` and `truth` and measure it.
pub fn calibrate(logits: &[Vec<f32>], truth: &[usize]) -> Calibration {
    measure(logits, truth, fit_temperature(logits, truth))
}

/// What `temperature` does on `logits` and `truth` (fitted there or elsewhere).
pub fn measure(logits: &[Vec<f32>], truth: &[usize], temperature: f64) -> Calibration {
    let (ece_before, bins_before) = reliability(logits, truth, 1.0);
    let (ece_after, bins_after) = reliability(logits, truth, temperature);
    Calibration {
        temperature,
        rows: logits.len(),
        nll_before: nll(logits, truth, 1.0),
        nll_after: nll(logits, truth, temperature),
        ece_before,
        ece_after,
        bins_before,
        bins_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Labels drawn from `softmax(z / t_true)` for random logits `z`: the temperature
    /// that fits them is `t_true`.
    fn synthetic(t_true: f64, rows: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(7);
        let mut logits = Vec::with_capacity(rows);
        let mut truth = Vec::with_capacity(rows);
        for _ in 0..rows {
            let z: Vec<f32> = (0..4).map(|_| rng.random_range(-6.0f32..6.0)).collect();
            let p = tempered_softmax(&z, t_true);
            let draw: f64 = rng.random();
            let mut acc = 0.0;
            let label = p
                .iter()
                .position(|&q| {
                    acc += q;
                    draw < acc
                })
                .unwrap_or(3);
            logits.push(z);
            truth.push(label);
        }
        (logits, truth)
    }

    #[test]
    fn the_fit_recovers_a_known_temperature() {
        for t_true in [0.5, 1.0, 2.5] {
            let (logits, truth) = synthetic(t_true, 20_000);
            let t = fit_temperature(&logits, &truth);
            assert!((t / t_true - 1.0).abs() < 0.06, "fitted {t} for {t_true}");
            let c = calibrate(&logits, &truth);
            assert!(c.nll_after <= c.nll_before + 1e-12);
            if t_true != 1.0 {
                assert!(c.ece_after < c.ece_before, "{c:?}");
            }
        }
    }

    #[test]
    fn the_ece_matches_a_hand_computed_case() {
        // Two rows at confidence ~0.731 (logit gap 1), one right, one wrong: bin 10
        // ([0.667, 0.733)) has confidence 0.731, accuracy 0.5. Two rows at ~0.982
        // (gap 4), both right: bin 14, confidence 0.982, accuracy 1.
        // ECE = 2/4 · |0.731 − 0.5| + 2/4 · |0.982 − 1| = 0.1155 + 0.0090.
        let logits = vec![
            vec![1.0f32, 0.0],
            vec![1.0, 0.0],
            vec![4.0, 0.0],
            vec![0.0, 4.0],
        ];
        let truth = [0, 1, 0, 1];
        let (ece, bins) = reliability(&logits, &truth, 1.0);
        let p1 = 1.0 / (1.0 + (-1.0f64).exp());
        let p4 = 1.0 / (1.0 + (-4.0f64).exp());
        let expected = 0.5 * (p1 - 0.5) + 0.5 * (1.0 - p4);
        assert!((ece - expected).abs() < 1e-9, "{ece} vs {expected}");
        assert_eq!(bins.len(), BINS);
        assert_eq!((bins[10].count, bins[14].count), (2, 2));
        assert!((bins[10].accuracy - 0.5).abs() < 1e-12);
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 4);
    }

    #[test]
    fn no_rows_keep_the_logits_as_they_are() {
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
