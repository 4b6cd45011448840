//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1/support,
//! confusion matrix; for label sets, the same fields plus [`LabelSetScores`].

use crate::multi_label::{over_thresholds, probabilities, LabelSetScores};
use serde::{Deserialize, Serialize};

/// Scores for one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true examples of this class.
    pub support: usize,
}

/// Metrics over a labelled set. For label sets (multi-label), `accuracy` is the
/// subset accuracy (the whole set right), `per_class` scores each label on its own,
/// `confusion` is empty and `label_sets` holds the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts, in label order.
    pub confusion: Vec<Vec<usize>>,
    pub count: usize,
    /// Micro-F1 and each label's 2x2 confusion, for label sets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub label_sets: Option<LabelSetScores>,
}

impl ClassMetrics {
    /// `label`'s scores from its counts: `true_positives`, the rows `predicted` as it
    /// and the rows truly of it (`support`); a score with nothing to count is 0.
    fn from_counts(label: &str, true_positives: usize, predicted: usize, support: usize) -> Self {
        let precision = ratio(true_positives, predicted);
        let recall = ratio(true_positives, support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            label: label.to_string(),
            precision,
            recall,
            f1,
            support,
        }
    }
}

/// `a / b`, or 0 when `b` is 0.
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The mean of the classes' F1 (macro-F1), 0 when there are none.
fn mean_f1(per_class: &[ClassMetrics]) -> f64 {
    if per_class.is_empty() {
        0.0
    } else {
        per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len() as f64
    }
}

impl Metrics {
    /// Compute from true and predicted class indices (same length) over `labels`.
    pub fn compute(labels: &[String], truth: &[usize], predicted: &[usize]) -> Self {
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            if t < k && p < k {
                confusion[t][p] += 1;
            }
        }
        let count = truth.len().min(predicted.len());
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|i| {
                let predicted_i: usize = confusion.iter().map(|row| row[i]).sum();
                let support: usize = confusion[i].iter().sum();
                ClassMetrics::from_counts(&labels[i], confusion[i][i], predicted_i, support)
            })
            .collect();
        Self {
            accuracy: ratio(correct, count),
            macro_f1: mean_f1(&per_class),
            per_class,
            confusion,
            count,
            label_sets: None,
        }
    }

    /// [`Self::of_label_sets`] of the label sets drawn from `logits` (one sigmoid per
    /// label) at `thresholds`.
    pub fn of_label_set_logits(
        labels: &[String],
        logits: &[Vec<f32>],
        truth: &[Vec<bool>],
        thresholds: &[f32],
    ) -> Self {
        let predicted: Vec<Vec<bool>> = probabilities(logits)
            .iter()
            .map(|row| over_thresholds(row, thresholds))
            .collect();
        Self::of_label_sets(labels, truth, &predicted, thresholds)
    }

    /// Compute from true and predicted label sets (`[row][label]`, same shapes) over
    /// `labels`, drawn with `thresholds`: macro-F1 is the mean of the labels' F1.
    pub fn of_label_sets(
        labels: &[String],
        truth: &[Vec<bool>],
        predicted: &[Vec<bool>],
        thresholds: &[f32],
    ) -> Self {
        let scores = LabelSetScores::compute(labels, truth, predicted, thresholds);
        let per_class: Vec<ClassMetrics> = scores
            .per_label
            .iter()
            .map(|c| {
                let predicted = c.true_positives + c.false_positives;
                ClassMetrics::from_counts(&c.label, c.true_positives, predicted, c.support())
            })
            .collect();
        Self {
            accuracy: scores.subset_accuracy,
            macro_f1: mean_f1(&per_class),
            per_class,
            confusion: Vec::new(),
            count: truth.len().min(predicted.len()),
            label_sets: Some(scores),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // truth:     a a a b b c
        // predicted: a a b b c c
        let m = Metrics::compute(&labels, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]
        );
        let a = &m.per_class[0];
        assert_eq!((a.precision, a.support), (1.0, 3));
        assert!((a.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.f1 - 0.8).abs() < 1e-12);
        let b = &m.per_class[1];
        assert!((b.f1 - 0.5).abs() < 1e-12);
        let c = &m.per_class[2];
        assert!((c.precision - 0.5).abs() < 1e-12 && (c.recall - 1.0).abs() < 1e-12);
        let expected_macro = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((m.macro_f1 - expected_macro).abs() < 1e-12);
    }

    #[test]
    fn label_sets_score_subset_accuracy_and_the_mean_of_label_f1() {
        // billing: tp 2, fp 1, fn 0 → F1 0.8; bug: tp 1, fp 0, fn 1 → F1 2/3.
        let (labels, truth, predicted) = crate::multi_label::hand_worked_sets();
        let m = Metrics::of_label_sets(&labels, &truth, &predicted, &[0.5, 0.5]);
        assert!((m.accuracy - 0.5).abs() < 1e-12);
        assert!((m.macro_f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!((m.per_class[0].support, m.per_class[1].support), (2, 2));
        let (billing, bug) = (&m.per_class[0], &m.per_class[1]);
        assert!((billing.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((billing.recall - 1.0).abs() < 1e-12 && (billing.f1 - 0.8).abs() < 1e-12);
        assert!((bug.precision - 1.0).abs() < 1e-12 && (bug.recall - 0.5).abs() < 1e-12);
        assert!((bug.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.count, 4);
        assert!(m.confusion.is_empty());
        assert!((m.label_sets.unwrap().micro_f1 - 0.75).abs() < 1e-12);
    }

    #[test]
    fn class_never_predicted_has_zero_precision_not_nan() {
        let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let m = Metrics::compute(&labels, &[0, 1], &[0, 0]);
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        assert!(m.macro_f1.is_finite());
    }
}
