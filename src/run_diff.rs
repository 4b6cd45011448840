//! Comparing two runs ticket by ticket: on the validation rows both were scored on
//! (or on one file picked for the comparison), which tickets the second run fixed
//! (wrong → right), broke (right → wrong) or changed (wrong → another wrong class),
//! and how the confusion matrix moved.

use crate::dataset::read_labeled;
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::predict::{PredictionPrecision, Predictor};
use crate::review::{review, review_run, Review, ReviewedRow, ValidationCheck};
use crate::runs::RunStore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How a ticket's prediction moved from the first run to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Wrong before, right after.
    Fixed,
    /// Right before, wrong after.
    Broken,
    /// Wrong before and after, with another class.
    Changed,
    /// The same prediction both times, but a correction changed the ticket's class
    /// between the runs.
    Corrected,
}

/// A ticket whose prediction differs between the two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ChangedRow {
    pub change: Change,
    /// Line in the data file where the row starts.
    pub line: usize,
    pub text: String,
    pub truth: String,
    pub before: String,
    pub before_confidence: f32,
    pub after: String,
    pub after_confidence: f32,
    /// The ticket's class in the first run, when a correction changed it since
    /// (`truth` is the second run's).
    pub truth_before: Option<String>,
}

/// Which rows two runs were compared on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DiffBasis {
    /// The validation rows both runs were scored on; `only_before` / `only_after`
    /// rows (tickets dropped or added by corrections) are left out.
    ValidationRows {
        #[serde(rename = "onlyBefore")]
        only_before: usize,
        #[serde(rename = "onlyAfter")]
        only_after: usize,
    },
    /// Every labelled row of a file picked for the comparison, scored by both models.
    File { path: PathBuf },
}

/// Two runs compared on the same rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RunDiff {
    pub before: String,
    pub after: String,
    pub basis: DiffBasis,
    pub rows_compared: usize,
    pub fixed: usize,
    pub broken: usize,
    pub changed: usize,
    /// Tickets a correction gave another class, predicted alike by both runs.
    pub corrected: usize,
    pub accuracy_before: f64,
    pub accuracy_after: f64,
    pub macro_f1_before: f64,
    pub macro_f1_after: f64,
    /// The classes of both runs: the first run's in its order, then any new ones.
    pub labels: Vec<String>,
    /// `after − before` counts, `[true][predicted]` over `labels`.
    pub confusion_change: Vec<Vec<i64>>,
    /// Every ticket whose prediction changed (fixed first, then broken, then changed),
    /// then those whose class was corrected, in file order within each.
    pub rows: Vec<ChangedRow>,
}

/// Compare runs `before` and `after` on their validation rows (each checked against its
/// run's fingerprint). Refused when the two runs were validated on other rows: compare
/// them on one file with [`diff_runs_on`].
pub fn diff_runs(
    store: &RunStore,
    before: &str,
    after: &str,
    device: DeviceChoice,
) -> Result<RunDiff> {
    refuse_multi_label(store, &[before, after])?;
    let (a, b) = (
        review_run(store, before, device)?,
        review_run(store, after, device)?,
    );
    diff_reviews(before, &a, after, &b)
}

/// A diff compares one class per ticket: an error naming the first of `runs` trained on
/// label sets.
fn refuse_multi_label(store: &RunStore, runs: &[&str]) -> Result<()> {
    for id in runs {
        if store.get(id)?.data.label_form.is_multi_label() {
            return Err(EngineError::Config(format!(
                "run {id} was trained on label sets (multi-label); a diff compares one class \
                 per ticket: compare the runs' metrics with `runs show` instead"
            )));
        }
    }
    Ok(())
}

/// Compare runs `before` and `after` on every labelled row of `file` (read with the
/// first run's text columns, label column and label map), each scored by its best
/// model in f32: for runs validated on other rows (another split seed, another file).
pub fn diff_runs_on(
    store: &RunStore,
    before: &str,
    after: &str,
    file: &Path,
    device: DeviceChoice,
) -> Result<RunDiff> {
    refuse_multi_label(store, &[before, after])?;
    let spec = store.get(before)?.data;
    let data = read_labeled(
        file,
        &spec.text,
        &spec.label_column,
        spec.label_map.as_ref(),
    )?;
    let check = || ValidationCheck::NotVerifiable {
        reason: format!("rows of {}, picked for a comparison", file.display()),
    };
    let score = |id: &str| -> Result<Review> {
        let predictor = Predictor::load_with(
            &store.model_dir(id)?,
            device,
            Some(PredictionPrecision::F32),
        )?;
        review(&predictor, &data.examples, check())
    };
    let (a, b) = (score(before)?, score(after)?);
    let mut diff = diff_reviews(before, &a, after, &b)?;
    diff.basis = DiffBasis::File {
        path: file.to_path_buf(),
    };
    Ok(diff)
}

/// Compare two reviews of the same rows, matched by line and text in any order; the
/// second review's classes are the truth (corrections may have changed some). One
/// review may lack rows the other has (tickets a correction dropped): refused unless
/// every row of the smaller is in the larger and they share at least half of it.
pub fn diff_reviews(
    before_id: &str,
    before: &Review,
    after_id: &str,
    after: &Review,
) -> Result<RunDiff> {
    let key = |r: &ReviewedRow| (r.line, r.text.clone());
    let after_rows: HashMap<(usize, String), &ReviewedRow> =
        after.rows.iter().map(|r| (key(r), r)).collect();
    let shared: Vec<(&ReviewedRow, &ReviewedRow)> = before
        .rows
        .iter()
        .filter_map(|b| after_rows.get(&key(b)).map(|a| (b, *a)))
        .collect();
    let larger = before.rows.len().max(after.rows.len());
    let smaller = before.rows.len().min(after.rows.len());
    if shared.is_empty() || shared.len() < smaller || 2 * shared.len() < larger {
        return Err(EngineError::Config(format!(
            "runs {before_id} and {after_id} were validated on other rows ({} and {}, {} shared): \
             compare them on one labelled file instead (both models score it)",
            before.rows.len(),
            after.rows.len(),
            shared.len()
        )));
    }
    let mut labels = before.labels.clone();
    for l in &after.labels {
        if !labels.contains(l) {
            labels.push(l.clone());
        }
    }
    let index = |label: &str| labels.iter().position(|l| l == label).unwrap_or(0);
    let k = labels.len();
    let mut confusion_change = vec![vec![0i64; k]; k];
    let mut rows = Vec::new();
    for (b, a) in &shared {
        let truth = index(&a.truth);
        confusion_change[index(&b.truth)][index(&b.predicted)] -= 1;
        confusion_change[truth][index(&a.predicted)] += 1;
        let change = match (b.predicted == a.truth, a.predicted == a.truth) {
            (false, true) => Change::Fixed,
            (true, false) => Change::Broken,
            (false, false) if a.predicted != b.predicted => Change::Changed,
            _ if b.truth != a.truth => Change::Corrected,
            _ => continue,
        };
        rows.push(ChangedRow {
            change,
            line: a.line,
            text: a.text.clone(),
            truth: a.truth.clone(),
            before: b.predicted.clone(),
            before_confidence: b.confidence,
            after: a.predicted.clone(),
            after_confidence: a.confidence,
            truth_before: (b.truth != a.truth).then(|| b.truth.clone()),
        });
    }
    rows.sort_by_key(|r| (r.change as u8, r.line));
    let count = |c: Change| rows.iter().filter(|r| r.change == c).count();
    Ok(RunDiff {
        before: before_id.to_string(),
        after: after_id.to_string(),
        basis: DiffBasis::ValidationRows {
            only_before: before.rows.len() - shared.len(),
            only_after: after.rows.len() - shared.len(),
        },
        rows_compared: shared.len(),
        fixed: count(Change::Fixed),
        broken: count(Change::Broken),
        changed: count(Change::Changed),
        corrected: count(Change::Corrected),
        accuracy_before: before.metrics.accuracy,
        accuracy_after: after.metrics.accuracy,
        macro_f1_before: before.metrics.macro_f1,
        macro_f1_after: after.metrics.macro_f1,
        labels,
        confusion_change,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::review::ValidationCheck;

    /// A review of rows `(line, truth, predicted)` over classes a, b, c.
    fn review(rows: &[(usize, &str, &str)]) -> Review {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let index = |l: &str| labels.iter().position(|x| x == l).unwrap();
        let truth: Vec<usize> = rows.iter().map(|r| index(r.1)).collect();
        let predicted: Vec<usize> = rows.iter().map(|r| index(r.2)).collect();
        Review {
            metrics: Metrics::compute(&labels, &truth, &predicted),
            labels: labels.clone(),
            rows: rows
                .iter()
                .map(|&(line, truth, predicted)| ReviewedRow {
                    line,
                    text: format!("ticket on line {line}"),
                    truth: truth.into(),
                    predicted: predicted.into(),
                    confidence: 0.5,
                })
                .collect(),
            validation: ValidationCheck::Verified { note: None },
            trust: Some(crate::routing::Trust::assess(
                &labels,
                &predicted
                    .iter()
                    .map(|&p| (0..3).map(|c| f32::from(u8::from(c == p))).collect())
                    .collect::<Vec<_>>(),
                &truth,
                1.0,
                None,
            )),
        }
    }

    #[test]
    fn tickets_are_grouped_as_fixed_broken_and_changed() {
        let before = review(&[
            (2, "a", "b"), // fixed
            (3, "b", "b"), // broken
            (4, "c", "a"), // changed
            (5, "a", "a"), // right both times
            (6, "b", "c"), // the same wrong class both times
        ]);
        // The second run lists the rows in another order.
        let after = review(&[
            (6, "b", "c"),
            (5, "a", "a"),
            (4, "c", "b"),
            (3, "b", "a"),
            (2, "a", "a"),
        ]);
        let diff = diff_reviews("r1", &before, "r2", &after).unwrap();
        assert_eq!((diff.fixed, diff.broken, diff.changed), (1, 1, 1));
        assert_eq!(diff.rows_compared, 5);
        let moved: Vec<(Change, usize, &str, &str)> = diff
            .rows
            .iter()
            .map(|r| (r.change, r.line, r.before.as_str(), r.after.as_str()))
            .collect();
        assert_eq!(
            moved,
            vec![
                (Change::Fixed, 2, "b", "a"),
                (Change::Broken, 3, "b", "a"),
                (Change::Changed, 4, "a", "b"),
            ]
        );
        // Row a: line 2 moved from predicted b to a; row b: line 3 from b to a; row c:
        // line 4 from a to b.
        assert_eq!(
            diff.confusion_change,
            vec![vec![1, -1, 0], vec![1, -1, 0], vec![-1, 1, 0]]
        );
        assert!((diff.accuracy_before - 0.4).abs() < 1e-9);
        assert!((diff.accuracy_after - 0.4).abs() < 1e-9);
    }

    #[test]
    fn runs_validated_on_other_rows_are_refused() {
        let before = review(&[(2, "a", "a"), (3, "b", "b")]);
        let after = review(&[(2, "a", "a"), (4, "b", "b")]);
        let err = diff_reviews("r1", &before, "r2", &after).unwrap_err();
        assert!(err.to_string().contains("other rows"), "{err}");
    }

    #[test]
    fn corrected_tickets_are_judged_by_the_new_class_and_dropped_ones_left_out() {
        let mut rows: Vec<(usize, &str, &str)> = (2..12).map(|l| (l, "a", "a")).collect();
        rows.push((12, "b", "a")); // relabelled a by the analyst: the first run's "a" was right
        rows.push((13, "c", "c")); // dropped by a correction
        let before = review(&rows);
        let mut after_rows: Vec<(usize, &str, &str)> = (2..12).map(|l| (l, "a", "a")).collect();
        after_rows.push((12, "a", "a"));
        let after = review(&after_rows);
        let diff = diff_reviews("r1", &before, "r2", &after).unwrap();
        assert_eq!(diff.rows_compared, 11);
        assert_eq!(
            diff.basis,
            DiffBasis::ValidationRows {
                only_before: 1,
                only_after: 0
            }
        );
        // Judged by the corrected class, line 12 was right both times: listed as
        // corrected, not as a changed prediction.
        assert_eq!(
            (diff.fixed, diff.broken, diff.changed, diff.corrected),
            (0, 0, 0, 1)
        );
        assert_eq!(diff.rows[0].change, Change::Corrected);
        assert_eq!(diff.rows[0].truth_before.as_deref(), Some("b"));
        // Had the second run predicted "b", that would break it, and say it was "b" before.
        let mut broke = after_rows.clone();
        broke[10] = (12, "a", "b");
        let diff = diff_reviews("r1", &before, "r2", &review(&broke)).unwrap();
        assert_eq!(diff.broken, 1);
        assert_eq!(diff.rows[0].truth_before.as_deref(), Some("b"));
        assert_eq!(diff.rows[0].truth, "a");
    }
}
