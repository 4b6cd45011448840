//! Handling the tickets the model is sure of and routing the rest to a person: the
//! coverage curve (share of tickets whose top probability clears a threshold, against
//! the accuracy on them), overall and per predicted class, the operating point at a
//! threshold, and the threshold a model keeps in its card.

use crate::calibration::{measure, tempered_softmax, top, Calibration};
use serde::{Deserialize, Serialize};

/// Where a ticket goes: handled automatically (its top probability clears the
/// threshold) or to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    Auto,
    Person,
}

impl Route {
    /// The route of a ticket predicted with `confidence` under `threshold`.
    pub fn of(confidence: f64, threshold: f64) -> Self {
        if confidence >= threshold {
            Route::Auto
        } else {
            Route::Person
        }
    }

    /// Its name in files and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Route::Auto => "auto",
            Route::Person => "person",
        }
    }
}

/// The tickets handled at one threshold: those whose top probability is at least
/// `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct OperatingPoint {
    pub threshold: f64,
    /// Tickets handled automatically, and their share of all tickets.
    pub handled: usize,
    pub coverage: f64,
    /// Share of the handled tickets predicted right (1 when none are handled).
    pub accuracy: f64,
}

/// Accuracy against coverage over a set of tickets: one point per distinct top
/// probability, from the most confident ticket alone to every ticket (threshold 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CoverageCurve {
    pub rows: usize,
    /// Thresholds descending, so coverage ascends.
    pub points: Vec<OperatingPoint>,
}

impl CoverageCurve {
    /// The curve of tickets with top probabilities `confidence`, `correct` saying
    /// which were predicted right.
    pub fn new(confidence: &[f64], correct: &[bool]) -> Self {
        let mut order: Vec<usize> = (0..confidence.len().min(correct.len())).collect();
        order.sort_by(|&a, &b| confidence[b].total_cmp(&confidence[a]));
        let rows = order.len();
        let mut points = Vec::new();
        let mut right = 0usize;
        for (i, &row) in order.iter().enumerate() {
            right += usize::from(correct[row]);
            let next = order.get(i + 1).map(|&r| confidence[r]);
            // A point where the threshold would next drop below this ticket's value.
            if next != Some(confidence[row]) {
                let handled = i + 1;
                points.push(OperatingPoint {
                    threshold: confidence[row],
                    handled,
                    coverage: handled as f64 / rows as f64,
                    accuracy: right as f64 / handled as f64,
                });
            }
        }
        Self { rows, points }
    }

    /// The tickets handled at `threshold` (exact: the curve holds every distinct value).
    pub fn at(&self, threshold: f64) -> OperatingPoint {
        // Points are by threshold descending: the last one still at or above it.
        let reached = self.points.partition_point(|p| p.threshold >= threshold);
        match reached.checked_sub(1).and_then(|i| self.points.get(i)) {
            Some(p) => OperatingPoint { threshold, ..*p },
            None => OperatingPoint {
                threshold,
                handled: 0,
                coverage: 0.0,
                accuracy: 1.0,
            },
        }
    }

    /// The lowest threshold (most tickets handled) whose handled tickets are at least
    /// `accuracy` right; `None` when no threshold reaches it.
    pub fn for_accuracy(&self, accuracy: f64) -> Option<OperatingPoint> {
        self.points
            .iter()
            .rev()
            .find(|p| p.accuracy >= accuracy)
            .copied()
    }
}

/// One class's curve: the tickets the model put in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassCoverage {
    pub label: String,
    pub curve: CoverageCurve,
}

/// Coverage curves over a set of tickets: all of them, and per predicted class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub overall: CoverageCurve,
    pub per_class: Vec<ClassCoverage>,
}

impl Coverage {
    /// Curves of tickets predicted `predicted` (class indices into `labels`) with top
    /// probability `confidence`, against `truth`.
    pub fn new(
        labels: &[String],
        confidence: &[f64],
        predicted: &[usize],
        truth: &[usize],
    ) -> Self {
        let correct: Vec<bool> = predicted.iter().zip(truth).map(|(p, t)| p == t).collect();
        let per_class = labels
            .iter()
            .enumerate()
            .map(|(class, label)| {
                let (conf, right): (Vec<f64>, Vec<bool>) = predicted
                    .iter()
                    .zip(confidence.iter().zip(&correct))
                    .filter(|(&p, _)| p == class)
                    .map(|(_, (&c, &r))| (c, r))
                    .unzip();
                ClassCoverage {
                    label: label.clone(),
                    curve: CoverageCurve::new(&conf, &right),
                }
            })
            .collect();
        Self {
            overall: CoverageCurve::new(confidence, &correct),
            per_class,
        }
    }
}

/// The threshold a model routes with, kept in its card with what it did on the rows
/// it was chosen on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RoutingThreshold {
    pub threshold: f64,
    /// The operating point on the rows it was chosen on (the validation split), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_on: Option<OperatingPoint>,
}

/// How far a model's probabilities can be trusted on a labelled set: its calibration
/// there (with the model's own temperature), its coverage curves, and its threshold's
/// operating point when it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Trust {
    pub calibration: Calibration,
    pub coverage: Coverage,
    pub threshold: Option<f64>,
    pub operating: Option<OperatingPoint>,
}

impl Trust {
    /// Trust of `logits` against `truth` (class indices into `labels`), with
    /// probabilities `softmax(logits / temperature)` and `threshold` when routing.
    pub fn assess(
        labels: &[String],
        logits: &[Vec<f32>],
        truth: &[usize],
        temperature: f64,
        threshold: Option<f64>,
    ) -> Self {
        let (predicted, confidence): (Vec<usize>, Vec<f64>) = logits
            .iter()
            .map(|row| top(&tempered_softmax(row, temperature)))
            .unzip();
        let coverage = Coverage::new(labels, &confidence, &predicted, truth);
        Self {
            calibration: measure(logits, truth, temperature),
            operating: threshold.map(|t| coverage.overall.at(t)),
            coverage,
            threshold,
        }
    }
}

/// Check a threshold given by a person: a probability in (0, 1].
pub fn check_threshold(threshold: f64) -> crate::Result<f64> {
    if threshold.is_finite() && threshold > 0.0 && threshold <= 1.0 {
        Ok(threshold)
    } else {
        Err(crate::EngineError::Config(format!(
            "a routing threshold is a probability between 0 and 1 (e.g. 0.9), got {threshold}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five tickets by confidence: 0.95 right, 0.9 right, 0.8 wrong, 0.8 right,
    /// 0.5 wrong.
    fn curve() -> CoverageCurve {
        CoverageCurve::new(
            &[0.8, 0.95, 0.5, 0.9, 0.8],
            &[false, true, false, true, true],
        )
    }

    #[test]
    fn the_curve_matches_a_hand_computed_case() {
        let c = curve();
        assert_eq!(c.rows, 5);
        let got: Vec<(f64, usize, f64)> = c
            .points
            .iter()
            .map(|p| (p.threshold, p.handled, p.accuracy))
            .collect();
        // Ties (the two 0.8s) make one point: both are handled or neither.
        assert_eq!(
            got,
            vec![(0.95, 1, 1.0), (0.9, 2, 1.0), (0.8, 4, 0.75), (0.5, 5, 0.6)]
        );
        assert!((c.points[2].coverage - 0.8).abs() < 1e-12);
    }

    #[test]
    fn the_operating_point_is_exact_between_points() {
        let c = curve();
        let p = c.at(0.85);
        assert_eq!((p.handled, p.accuracy), (2, 1.0));
        assert_eq!(p.threshold, 0.85);
        assert_eq!(c.at(0.8).handled, 4);
        assert_eq!(c.at(0.0).handled, 5);
        let none = c.at(0.99);
        assert_eq!((none.handled, none.coverage, none.accuracy), (0, 0.0, 1.0));
    }

    #[test]
    fn the_threshold_for_an_accuracy_handles_the_most_tickets() {
        let c = curve();
        assert_eq!(c.for_accuracy(1.0).map(|p| p.handled), Some(2));
        assert_eq!(c.for_accuracy(0.7).map(|p| p.handled), Some(4));
        assert_eq!(c.for_accuracy(0.6).map(|p| p.threshold), Some(0.5));
        assert!(CoverageCurve::new(&[0.9], &[false])
            .for_accuracy(0.5)
            .is_none());
    }

    #[test]
    fn per_class_curves_hold_the_tickets_put_in_each_class() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let coverage = Coverage::new(&labels, &[0.9, 0.6, 0.7], &[0, 1, 0], &[0, 0, 1]);
        assert_eq!(coverage.per_class[0].curve.rows, 2);
        assert_eq!(coverage.per_class[0].curve.at(0.8).accuracy, 1.0);
        assert_eq!(coverage.per_class[0].curve.at(0.0).accuracy, 0.5);
        assert_eq!(coverage.per_class[1].curve.at(0.0).accuracy, 0.0);
        assert_eq!(coverage.overall.rows, 3);
    }

    #[test]
    fn routes_follow_the_threshold_and_bad_thresholds_are_refused() {
        assert_eq!(Route::of(0.9, 0.9), Route::Auto);
        assert_eq!(Route::of(0.89, 0.9), Route::Person);
        assert!(check_threshold(0.0).is_err());
        assert!(check_threshold(1.5).is_err());
        assert!(check_threshold(f64::NAN).is_err());
        assert_eq!(check_threshold(1.0).ok(), Some(1.0));
    }

    #[test]
    fn trust_reads_the_tempered_probabilities() {
        let labels = vec!["a".to_string(), "b".to_string()];
        // Logit gap 2: p = 0.881 at T = 1, 0.731 at T = 2.
        let logits = vec![vec![2.0f32, 0.0], vec![0.0, 2.0]];
        let t1 = Trust::assess(&labels, &logits, &[0, 0], 1.0, Some(0.8));
        assert_eq!(t1.operating.map(|p| p.handled), Some(2));
        let t2 = Trust::assess(&labels, &logits, &[0, 0], 2.0, Some(0.8));
        assert_eq!(
            t2.operating.map(|p| (p.handled, p.accuracy)),
            Some((0, 1.0))
        );
        assert_eq!(t2.calibration.temperature, 2.0);
        assert_eq!(t2.coverage.overall.at(0.0).accuracy, 0.5);
    }
}
