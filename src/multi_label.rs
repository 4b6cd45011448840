//! Multi-label arithmetic on the host: sigmoid probabilities, binary cross-entropy,
//! label sets over per-label thresholds, thresholds tuned for each label's F1, and the
//! metrics of label sets (micro/macro F1, subset accuracy, per label its 2x2
//! confusion).

use serde::{Deserialize, Serialize};

/// The threshold a label has when none was tuned (no positives to tune it on).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// `1 / (1 + e^-x)`, without overflow for large `|x|`.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Binary cross-entropy of `logits` against 0/1 `truth`, averaged over rows × labels
/// as torch's `BCEWithLogitsLoss` does: `max(x,0) − x·y + ln(1 + e^−|x|)` per cell.
pub fn bce_with_logits(logits: &[Vec<f32>], truth: &[Vec<bool>]) -> f64 {
    let mut sum = 0.0;
    let mut cells = 0usize;
    for (row, want) in logits.iter().zip(truth) {
        for (&x, &y) in row.iter().zip(want) {
            let x = x as f64;
            let y = if y { 1.0 } else { 0.0 };
            sum += x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
            cells += 1;
        }
    }
    sum / cells.max(1) as f64
}

/// Each label's sigmoid probability, per row of `logits`.
pub fn probabilities(logits: &[Vec<f32>]) -> Vec<Vec<f32>> {
    logits
        .iter()
        .map(|row| row.iter().map(|&x| sigmoid(x)).collect())
        .collect()
}

/// Which labels are on: each probability at or over its label's threshold.
pub fn over_thresholds(probabilities: &[f32], thresholds: &[f32]) -> Vec<bool> {
    probabilities
        .iter()
        .enumerate()
        .map(|(i, &p)| p >= thresholds.get(i).copied().unwrap_or(DEFAULT_THRESHOLD))
        .collect()
}

/// The threshold that maximises one label's F1 on `probabilities` with `truth`
/// (0/1 per row): cuts are tried between consecutive distinct probabilities, from the
/// highest down, each threshold the midpoint of the two (half the lowest for the
/// last); the first best cut wins. [`DEFAULT_THRESHOLD`] when no row is positive.
pub fn tune_threshold(probabilities: &[f32], truth: &[bool]) -> f32 {
    let positives = truth.iter().filter(|&&t| t).count();
    if positives == 0 {
        return DEFAULT_THRESHOLD;
    }
    let mut rows: Vec<(f32, bool)> = probabilities
        .iter()
        .copied()
        .zip(truth.iter().copied())
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut best_f1, mut best) = (-1.0, DEFAULT_THRESHOLD);
    let mut i = 0;
    while i < rows.len() {
        let value = rows[i].0;
        while i < rows.len() && rows[i].0 == value {
            if rows[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let f1 = 2.0 * tp as f64 / (2 * tp + fp + (positives - tp)) as f64;
        if f1 > best_f1 {
            best_f1 = f1;
            best = match rows.get(i) {
                Some(&(next, _)) => (value + next) / 2.0,
                None => value / 2.0,
            };
        }
    }
    best
}

/// [`tune_threshold`] for every label: `probabilities[row][label]`,
/// `truth[row][label]`.
pub fn tune_thresholds(probabilities: &[Vec<f32>], truth: &[Vec<bool>], labels: usize) -> Vec<f32> {
    (0..labels)
        .map(|l| {
            let p: Vec<f32> = probabilities.iter().map(|r| r[l]).collect();
            let t: Vec<bool> = truth.iter().map(|r| r[l]).collect();
            tune_threshold(&p, &t)
        })
        .collect()
}

/// One label's counts on a labelled set: its 2x2 confusion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LabelConfusion {
    pub label: String,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

impl LabelConfusion {
    /// Rows that truly carry the label.
    pub fn support(&self) -> usize {
        self.true_positives + self.false_negatives
    }
}

/// What only label sets have: micro-F1 (counts pooled over labels), subset accuracy
/// (rows whose whole set is right), each label's 2x2 confusion and the thresholds
/// the sets were drawn with (label order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LabelSetScores {
    pub micro_f1: f64,
    pub subset_accuracy: f64,
    pub per_label: Vec<LabelConfusion>,
    pub thresholds: Vec<f32>,
}

impl LabelSetScores {
    /// Count `predicted` against `truth` (`[row][label]`, same shapes) over `labels`.
    pub fn compute(
        labels: &[String],
        truth: &[Vec<bool>],
        predicted: &[Vec<bool>],
        thresholds: &[f32],
    ) -> Self {
        let mut per_label: Vec<LabelConfusion> = labels
            .iter()
            .map(|l| LabelConfusion {
                label: l.clone(),
                true_positives: 0,
                false_positives: 0,
                false_negatives: 0,
                true_negatives: 0,
            })
            .collect();
        let mut exact = 0;
        let rows = truth.len().min(predicted.len());
        for (want, got) in truth.iter().zip(predicted) {
            exact += usize::from(want == got);
            for (c, (&t, &p)) in per_label.iter_mut().zip(want.iter().zip(got)) {
                match (t, p) {
                    (true, true) => c.true_positives += 1,
                    (false, true) => c.false_positives += 1,
                    (true, false) => c.false_negatives += 1,
                    (false, false) => c.true_negatives += 1,
                }
            }
        }
        let (tp, fp, fn_) = per_label.iter().fold((0, 0, 0), |(tp, fp, fn_), c| {
            (
                tp + c.true_positives,
                fp + c.false_positives,
                fn_ + c.false_negatives,
            )
        });
        let pooled = 2 * tp + fp + fn_;
        Self {
            micro_f1: if pooled == 0 {
                0.0
            } else {
                2.0 * tp as f64 / pooled as f64
            },
            subset_accuracy: if rows == 0 {
                0.0
            } else {
                exact as f64 / rows as f64
            },
            per_label,
            thresholds: thresholds.to_vec(),
        }
    }
}

/// Four rows of label sets over billing and bug, worked by hand in the tests here and
/// in `metrics`: labels, truth, predicted.
#[cfg(test)]
pub(crate) fn hand_worked_sets() -> (Vec<String>, Vec<Vec<bool>>, Vec<Vec<bool>>) {
    let labels = ["billing", "bug"].iter().map(|s| s.to_string()).collect();
    // truth      {billing} {billing,bug} {bug} {}
    // predicted  {billing} {billing}     {bug,billing} {}
    let truth = vec![
        vec![true, false],
        vec![true, true],
        vec![false, true],
        vec![false, false],
    ];
    let predicted = vec![
        vec![true, false],
        vec![true, false],
        vec![true, true],
        vec![false, false],
    ];
    (labels, truth, predicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_bce_match_hand_computed_values() {
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid(2.0) - 0.880_797_1).abs() < 1e-6);
        assert!((sigmoid(-2.0) - 0.119_202_9).abs() < 1e-6);
        assert_eq!(sigmoid(-200.0), 0.0);
        // Cells: (0, y=1) ln 2; (2, y=0) 2 + ln(1+e^-2); (-1, y=0) ln(1+e^-1);
        // (3, y=1) ln(1+e^-3).
        let logits = vec![vec![0.0, 2.0], vec![-1.0, 3.0]];
        let truth = vec![vec![true, false], vec![false, true]];
        let want = (2f64.ln()
            + 2.0
            + (1.0 + (-2f64).exp()).ln()
            + (1.0 + (-1f64).exp()).ln()
            + (1.0 + (-3f64).exp()).ln())
            / 4.0;
        assert!((bce_with_logits(&logits, &truth) - want).abs() < 1e-9);
        assert!((want - 0.7955).abs() < 1e-4, "{want}");
    }

    #[test]
    fn each_label_gets_the_threshold_of_its_best_f1() {
        // Probabilities 0.9 (pos), 0.7 (neg), 0.6 (pos), 0.2 (neg).
        // Cut after 0.9: P 1, R 1/2, F1 2/3; after 0.7: F1 1/2; after 0.6: tp 2, fp 1,
        // F1 4/5 (best), threshold (0.6 + 0.2) / 2 = 0.4; after 0.2: F1 2/3.
        let t = tune_threshold(&[0.9, 0.7, 0.6, 0.2], &[true, false, true, false]);
        assert!((t - 0.4).abs() < 1e-6, "{t}");
        // The first of equal cuts wins: the higher threshold.
        let t = tune_threshold(&[0.8, 0.3], &[true, false]);
        assert!((t - 0.55).abs() < 1e-6, "{t}");
        // No positives: the default.
        assert_eq!(
            tune_threshold(&[0.9, 0.1], &[false, false]),
            DEFAULT_THRESHOLD
        );
        // All positive: below the lowest.
        let t = tune_threshold(&[0.3, 0.2], &[true, true]);
        assert!((t - 0.1).abs() < 1e-6, "{t}");
        let probs = vec![vec![0.9, 0.8], vec![0.7, 0.3]];
        let truth = vec![vec![true, true], vec![false, false]];
        let ts = tune_thresholds(&probs, &truth, 2);
        assert!(
            (ts[0] - 0.8).abs() < 1e-6 && (ts[1] - 0.55).abs() < 1e-6,
            "{ts:?}"
        );
        assert_eq!(over_thresholds(&[0.8, 0.5], &ts), vec![true, false]);
    }

    #[test]
    fn label_set_scores_match_a_hand_worked_set() {
        let (labels, truth, predicted) = hand_worked_sets();
        let s = LabelSetScores::compute(&labels, &truth, &predicted, &[0.5, 0.4]);
        // Rows 1 and 4 are exactly right.
        assert!((s.subset_accuracy - 0.5).abs() < 1e-12);
        // billing: tp 2, fp 1, fn 0, tn 1 → F1 4/5; bug: tp 1, fp 0, fn 1, tn 2 → 2/3.
        let b = &s.per_label[0];
        assert_eq!(
            (
                b.true_positives,
                b.false_positives,
                b.false_negatives,
                b.true_negatives
            ),
            (2, 1, 0, 1)
        );
        let g = &s.per_label[1];
        assert_eq!(
            (
                g.true_positives,
                g.false_positives,
                g.false_negatives,
                g.true_negatives
            ),
            (1, 0, 1, 2)
        );
        // Micro: tp 3, fp 1, fn 1 → 6/8.
        assert!((s.micro_f1 - 0.75).abs() < 1e-12);
        assert_eq!(s.thresholds, vec![0.5, 0.4]);
    }
}
