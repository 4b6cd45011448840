//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1/support,
//! confusion matrix.

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

/// Metrics over a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts, in label order.
    pub confusion: Vec<Vec<usize>>,
    pub count: usize,
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
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|i| {
                let tp = confusion[i][i];
                let support: usize = confusion[i].iter().sum();
                let predicted_i: usize = confusion.iter().map(|row| row[i]).sum();
                let precision = ratio(tp, predicted_i);
                let recall = ratio(tp, support);
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassMetrics {
                    label: labels[i].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let macro_f1 = if k == 0 {
            0.0
        } else {
            per_class.iter().map(|c| c.f1).sum::<f64>() / k as f64
        };
        Self {
            accuracy: ratio(correct, count),
            macro_f1,
            per_class,
            confusion,
            count,
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
    fn class_never_predicted_has_zero_precision_not_nan() {
        let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let m = Metrics::compute(&labels, &[0, 1], &[0, 0]);
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        assert!(m.macro_f1.is_finite());
    }
}
