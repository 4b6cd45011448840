//! The arithmetic of an estimate, apart from any device: how much work a batch is, a
//! step's seconds fitted from timed steps (the timer is passed in, so tests feed a
//! fake one), and a run's seconds summed over the batches it will take.

use super::super::{batching, epoch_seed, ORDER_STREAM};
use crate::error::{EngineError, Result};
use crate::model::tokenize::Encoded;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A batch's compute in token units: each row's tokens plus its attention pairs
/// (query × key), weighted by what a pair costs against a token. Per layer a token
/// takes `4h² + 2hi` multiply-adds in its linear layers (`h` hidden, `i` feed-forward
/// width) and a pair `2h` (scores and the weighted sum), so a pair weighs `1/(2h + i)`
/// of a token: 1/2304 for MiniLM-L6, whose rows of 128 tokens spend 5% on attention.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WorkModel {
    pub pair_weight: f64,
}

impl WorkModel {
    /// The model of an encoder `hidden` wide with feed-forward layers `intermediate`
    /// wide.
    pub fn new(hidden: usize, intermediate: usize) -> Self {
        Self {
            pair_weight: 1.0 / (2 * hidden + intermediate).max(1) as f64,
        }
    }

    /// One row of `len` tokens.
    pub fn row(&self, len: usize) -> f64 {
        let len = len as f64;
        len + len * len * self.pair_weight
    }

    /// A batch of rows of `lens` tokens: packed one after the other (the CPU's
    /// padding-free batches), or padded to the longest.
    pub fn batch(&self, lens: &[usize], packed: bool) -> f64 {
        if packed {
            lens.iter().map(|&l| self.row(l)).sum()
        } else {
            lens.len() as f64 * self.row(lens.iter().copied().max().unwrap_or(0))
        }
    }

    /// The work of batched inference over rows of `lens` tokens, sorted by length and
    /// cut into batches of `batch_size` as `inference::batched_rows` does: (the total,
    /// the heaviest batch).
    pub fn sorted_batches(&self, lens: &[usize], batch_size: usize, packed: bool) -> (f64, f64) {
        let mut sorted = lens.to_vec();
        sorted.sort_unstable();
        sorted
            .chunks(batch_size.max(1))
            .map(|chunk| self.batch(chunk, packed))
            .fold((0.0, 0.0), |(total, most), w| {
                (total + w, f64::max(most, w))
            })
    }
}

/// A step's seconds: `fixed + per_work × work` (work in [`WorkModel`] units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StepCost {
    pub fixed: f64,
    pub per_work: f64,
}

impl StepCost {
    /// Seconds of a step of `work`.
    pub fn seconds(&self, work: f64) -> f64 {
        self.fixed + self.per_work * work
    }

    /// Least squares over `(work, seconds)` samples. Where the samples cannot tell a
    /// fixed cost apart (equal work) or the fit says one is negative (noise), all time
    /// is taken as proportional to work: exact for batches like the timed ones.
    pub fn fit(samples: &[(f64, f64)]) -> Result<Self> {
        let n = samples.len() as f64;
        let (sum_w, sum_t) = samples
            .iter()
            .fold((0.0, 0.0), |(w, t), &(sw, st)| (w + sw, t + st));
        if samples.is_empty() || sum_w <= 0.0 {
            return Err(EngineError::Internal(
                "the estimate has no timed work to fit".into(),
            ));
        }
        let proportional = Self {
            fixed: 0.0,
            per_work: sum_t / sum_w,
        };
        let (mean_w, mean_t) = (sum_w / n, sum_t / n);
        let spread: f64 = samples.iter().map(|&(w, _)| (w - mean_w).powi(2)).sum();
        if spread <= 1e-9 * mean_w * mean_w * n {
            return Ok(proportional);
        }
        let per_work = samples
            .iter()
            .map(|&(w, t)| (w - mean_w) * (t - mean_t))
            .sum::<f64>()
            / spread;
        let fixed = mean_t - per_work * mean_w;
        Ok(if fixed >= 0.0 && per_work > 0.0 {
            Self { fixed, per_work }
        } else {
            proportional
        })
    }
}

/// The rows a measurement trains on, as indices into rows of `lengths` tokens: first
/// the `batch_size` longest (the run's heaviest possible batch; it is also the
/// warm-up, which allocates what the run will hold), then that batch again, two
/// batches of rows drawn at random, and a half batch, so the timed work spans the
/// run's batches and a fixed cost per step shows apart from the cost per token.
pub(super) fn calibration_batches(
    lengths: &[usize],
    batch_size: usize,
    seed: u64,
) -> Vec<Vec<usize>> {
    let batch = batch_size.clamp(1, lengths.len().max(1));
    let mut by_length: Vec<usize> = (0..lengths.len()).collect();
    by_length.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    let longest: Vec<usize> = by_length.into_iter().take(batch).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut random = || {
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        order.shuffle(&mut rng);
        order
    };
    let (first, second, half) = (random(), random(), random());
    vec![
        longest.clone(),
        longest,
        first.into_iter().take(batch).collect(),
        second.into_iter().take(batch).collect(),
        half.into_iter().take(batch.div_ceil(2)).collect(),
    ]
}

/// Time a training step on each of `batches` with `step` (the first is a warm-up, not
/// fitted) and fit the cost of a step. `None` if `cancel` was set between steps.
pub(super) fn measure_steps(
    batches: &[Vec<Encoded>],
    work: impl Fn(&[&Encoded]) -> f64,
    mut step: impl FnMut(&[&Encoded]) -> Result<Duration>,
    cancel: &AtomicBool,
) -> Result<Option<StepCost>> {
    let mut samples = Vec::with_capacity(batches.len());
    for (i, batch) in batches.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let items: Vec<&Encoded> = batch.iter().collect();
        let seconds = step(&items)?.as_secs_f64();
        if i > 0 {
            samples.push((work(&items), seconds));
        }
    }
    StepCost::fit(&samples).map(Some)
}

/// The batches of one epoch of a fine-tune, as the run draws them (the order of its
/// first epoch; later epochs draw others of the same sizes).
pub(super) fn epoch_batch_lengths(
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    seed: u64,
) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(epoch_seed(seed, 1, ORDER_STREAM));
    batching::epoch_batches(lengths, batch_size, group_by_length, &mut rng)
        .into_iter()
        .map(|rows| rows.into_iter().map(|i| lengths[i]).collect())
        .collect()
}

/// The mean work of a training step over rows of `lengths` tokens.
pub(super) fn mean_step_work(
    work: &WorkModel,
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    packed: bool,
    seed: u64,
) -> f64 {
    let batches = epoch_batch_lengths(lengths, batch_size, group_by_length, seed);
    let total: f64 = batches.iter().map(|b| work.batch(b, packed)).sum();
    total / batches.len().max(1) as f64
}

/// One epoch of training steps over rows of `lengths` tokens: (steps, seconds, work of
/// the heaviest batch).
pub(super) fn epoch_steps(
    cost: &StepCost,
    work: &WorkModel,
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    packed: bool,
    seed: u64,
) -> (usize, f64, f64) {
    let batches = epoch_batch_lengths(lengths, batch_size, group_by_length, seed);
    let works: Vec<f64> = batches.iter().map(|b| work.batch(b, packed)).collect();
    let seconds = works.iter().map(|&w| cost.seconds(w)).sum();
    (
        batches.len(),
        seconds,
        works.iter().copied().fold(0.0, f64::max),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lengths: &[usize]) -> Vec<Encoded> {
        lengths
            .iter()
            .map(|&n| Encoded {
                ids: vec![1; n],
                type_ids: vec![0; n],
                truncated: false,
            })
            .collect()
    }

    /// Lengths like short tickets with a long tail, capped at `max`.
    fn lengths(n: usize, max: usize) -> Vec<usize> {
        (0..n).map(|i| (8 + (i * 7919) % 97).min(max)).collect()
    }

    /// A fake step: a fixed overhead, a cost per token and a cost per attention pair
    /// (four times the pair weight the estimate assumes, to show the fit absorbs it).
    fn fake_seconds(lens: &[usize], packed: bool) -> f64 {
        let pairs: f64 = if packed {
            lens.iter().map(|&l| (l * l) as f64).sum()
        } else {
            let longest = lens.iter().copied().max().unwrap_or(0);
            (lens.len() * longest * longest) as f64
        };
        let tokens: f64 = if packed {
            lens.iter().sum::<usize>() as f64
        } else {
            (lens.len() * lens.iter().copied().max().unwrap_or(0)) as f64
        };
        0.04 + 2e-4 * tokens + 4.0 * 2e-4 * pairs / 2304.0
    }

    #[test]
    fn the_estimate_is_within_tolerance_of_a_measured_fake_step_time() {
        let work = WorkModel::new(384, 1536);
        for packed in [true, false] {
            for (max_length, batch_size, epochs) in [(64, 16, 1), (128, 16, 3), (128, 8, 2)] {
                let all = lengths(1500, max_length);
                let batches = calibration_batches(&all, batch_size, 7);
                let encoded: Vec<Vec<Encoded>> = batches
                    .iter()
                    .map(|b| rows(&b.iter().map(|&i| all[i]).collect::<Vec<_>>()))
                    .collect();
                let lens = |items: &[&Encoded]| -> Vec<usize> {
                    items.iter().map(|e| e.ids.len()).collect()
                };
                let fitted = measure_steps(
                    &encoded,
                    |items| work.batch(&lens(items), packed),
                    |items| Ok(Duration::from_secs_f64(fake_seconds(&lens(items), packed))),
                    &AtomicBool::new(false),
                )
                .unwrap()
                .unwrap();
                let (steps, per_epoch, _) =
                    epoch_steps(&fitted, &work, &all, batch_size, false, packed, 42);
                let estimate = per_epoch * epochs as f64;
                // What the fake step takes over the batches the run draws, epoch by epoch.
                let mut actual = 0.0;
                for epoch in 1..=epochs {
                    let mut rng = StdRng::seed_from_u64(epoch_seed(42, epoch, ORDER_STREAM));
                    for b in batching::epoch_batches(&all, batch_size, false, &mut rng) {
                        let l: Vec<usize> = b.iter().map(|&i| all[i]).collect();
                        actual += fake_seconds(&l, packed);
                    }
                }
                assert_eq!(steps, all.len().div_ceil(batch_size));
                let error = (estimate - actual).abs() / actual;
                assert!(
                    error < 0.05,
                    "packed {packed}, length {max_length}, batch {batch_size}: \
                     estimate {estimate:.2} s, fake run {actual:.2} s ({:.1}% off)",
                    error * 100.0
                );
            }
        }
    }

    #[test]
    fn the_fit_separates_a_fixed_cost_and_falls_back_to_proportional() {
        let exact = StepCost::fit(&[(100.0, 1.5), (200.0, 2.5), (50.0, 1.0)]).unwrap();
        assert!((exact.fixed - 0.5).abs() < 1e-9 && (exact.per_work - 0.01).abs() < 1e-9);
        let same_work = StepCost::fit(&[(100.0, 1.0), (100.0, 1.2)]).unwrap();
        assert_eq!(same_work.fixed, 0.0);
        assert!((same_work.per_work - 0.011).abs() < 1e-9);
        // Noise making the small batch slower: no negative fixed cost.
        let noisy = StepCost::fit(&[(100.0, 2.0), (200.0, 1.9)]).unwrap();
        assert_eq!(noisy.fixed, 0.0);
        assert!(StepCost::fit(&[]).is_err());
    }

    #[test]
    fn calibration_starts_with_the_longest_rows_and_cancels_between_steps() {
        let all = [5, 90, 12, 64, 33, 7, 80];
        let batches = calibration_batches(&all, 3, 1);
        assert_eq!(batches[0], vec![1, 6, 3]);
        assert_eq!(batches.len(), 5);
        assert_eq!(batches[4].len(), 2);
        let encoded: Vec<Vec<Encoded>> = batches.iter().map(|_| rows(&[4])).collect();
        let cancel = AtomicBool::new(true);
        let got = measure_steps(&encoded, |_| 1.0, |_| Ok(Duration::ZERO), &cancel).unwrap();
        assert!(got.is_none());
    }

    #[test]
    fn padding_costs_work_where_packing_does_not() {
        let work = WorkModel::new(384, 1536);
        let packed = work.batch(&[10, 100], true);
        let padded = work.batch(&[10, 100], false);
        assert!((packed - (work.row(10) + work.row(100))).abs() < 1e-9);
        assert!((padded - 2.0 * work.row(100)).abs() < 1e-9);
        // Sorted inference batches pad little.
        let (sorted, heaviest) = work.sorted_batches(&[10, 100, 11, 99], 2, false);
        assert!((sorted - 2.0 * (work.row(11) + work.row(100))).abs() < 1e-9);
        assert!((heaviest - 2.0 * work.row(100)).abs() < 1e-9);
    }
}
