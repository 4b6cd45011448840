//! Suspect labels: the tickets whose given label is most likely wrong, found before any
//! fine-tune. Every text is encoded once by the frozen encoder (the instant
//! baseline's features); k-fold cross-validation of the baseline's linear head gives
//! each ticket class probabilities from a head that never saw it; confident learning
//! (Northcutt, Jiang and Chuang, 2021) flags the tickets whose confident class is not
//! their given one, ranked by margin ([`confident_learning`]).

use super::baseline::{encode, fit_softmax, moments, standardise};
use super::load_model;
use crate::dataset::{Example, LabeledData};
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::inference::{argmax, softmax};
use crate::model::params::HeadPolicy;
use crate::setting::Setting;
use crate::settings::{TrainConfig, LIMITS};
use candle_core::{Device, Tensor};
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// L2 penalty of each fold's linear head, on standardised features.
const PENALTY: f64 = 1e-2;
/// Full-batch optimisation steps per fold: a sixth of the baseline's, for speed. On
/// Banking77 and Ticket Tagger with 5% of labels flipped, 50, 100 and 300 steps found
/// the same share of flips, over three seeds (bench/README.md).
const FOLD_STEPS: usize = 50;
/// Tolerance below a class's threshold that still counts as reaching it (cleanlab's),
/// so that a class whose rows all have the same probability reaches its own mean.
const THRESHOLD_TOLERANCE: f64 = 1e-6;
/// Bounds of [`SuspectRequest::folds`].
const MIN_FOLDS: usize = 2;
const MAX_FOLDS: usize = 20;

/// What to find suspect labels with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct SuspectRequest {
    /// The encoder: a hub id or a local folder, as [`TrainConfig::model`].
    pub model: String,
    /// Tokens kept per text (at most the model's positions).
    pub max_length: usize,
    /// Texts encoded per batch.
    pub batch_size: usize,
    /// Cross-validation folds (2 to 20).
    pub folds: usize,
    /// Seeds the folds.
    pub seed: u64,
    pub device: DeviceChoice,
}

impl Default for SuspectRequest {
    fn default() -> Self {
        Self::from_config(&TrainConfig::default())
    }
}

impl SuspectRequest {
    /// The request matching a training configuration: its model, maximum length,
    /// evaluation batch size, seed and device, with 5 folds.
    pub fn from_config(config: &TrainConfig) -> Self {
        Self {
            model: config.model.clone(),
            max_length: config.max_length,
            batch_size: config.eval_batch_size,
            folds: 5,
            seed: config.seed,
            device: config.device,
        }
    }

    /// Reject settings out of bounds, naming the setting.
    pub fn validate(&self) -> Result<()> {
        LIMITS
            .max_length
            .check(Setting::MaxLength, self.max_length)?;
        LIMITS
            .eval_batch_size
            .check(Setting::EvalBatchSize, self.batch_size)?;
        if !(MIN_FOLDS..=MAX_FOLDS).contains(&self.folds) {
            return Err(EngineError::Config(format!(
                "folds: must be between {MIN_FOLDS} and {MAX_FOLDS}, got {}",
                self.folds
            )));
        }
        Ok(())
    }
}

/// Progress of [`find_suspects`], in order: `Encoding` after each batch of texts,
/// then `Fitting` as each fold's head starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SuspectProgress {
    Encoding {
        done: usize,
        total: usize,
    },
    /// Fold `fold` (from 1) of `folds`.
    Fitting {
        fold: usize,
        folds: usize,
    },
}

/// A ticket whose given label is probably wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Suspect {
    /// The ticket's line in its file.
    pub line: usize,
    pub text: String,
    /// The label in the data.
    pub given: String,
    /// The label the held-out head is confident of.
    pub likely: String,
    /// The held-out probability of `likely`.
    pub confidence: f64,
    /// The held-out probability of `given`.
    pub given_confidence: f64,
    /// `confidence − given_confidence`: the larger, the more suspect.
    pub margin: f64,
}

/// One class's confidence threshold: the mean held-out probability of the class
/// over the tickets labelled with it (`None` for a class no ticket has).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassThreshold {
    pub label: String,
    pub rows: usize,
    pub threshold: Option<f64>,
}

/// What [`find_suspects`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SuspectReport {
    /// Most suspect first.
    pub suspects: Vec<Suspect>,
    /// Tickets examined.
    pub rows: usize,
    pub folds: usize,
    /// Share of tickets whose most probable held-out class is the given one.
    pub held_out_accuracy: f64,
    /// Per class, in the order of the labels given.
    pub thresholds: Vec<ClassThreshold>,
    /// Time spent encoding the texts (tokenising included).
    pub encoding_seconds: f64,
    /// Total time, loading the model included.
    pub seconds: f64,
}

/// Find the tickets in `examples` whose label (one of `labels`) is most likely wrong:
/// encode every text once with the frozen encoder, fit the instant baseline's linear
/// head on all folds but one for each of `request.folds` stratified folds, and apply
/// [`confident_learning`] to the held-out probabilities. `None` if `cancel` was set
/// (checked between batches and optimisation steps).
pub fn find_suspects(
    request: &SuspectRequest,
    examples: &[Example],
    labels: &[String],
    on_progress: &mut dyn FnMut(SuspectProgress),
    cancel: &AtomicBool,
) -> Result<Option<SuspectReport>> {
    let started = Instant::now();
    request.validate()?;
    if examples.iter().any(|e| e.labels.is_some()) {
        return Err(EngineError::Config(
            "finding suspect labels looks for tickets with one wrong class, and this data has \
             label sets (multi-label)"
                .into(),
        ));
    }
    if labels.len() < 2 {
        return Err(EngineError::Config(format!(
            "finding suspect labels needs at least 2 classes, the data has {}",
            labels.len()
        )));
    }
    if examples.len() < request.folds {
        let (folds, rows) = (request.folds, examples.len());
        return Err(EngineError::Config(format!(
            "finding suspect labels with {folds} folds needs at least {folds} tickets, \
             the data has {rows}"
        )));
    }
    let given = LabeledData::label_indices(examples, labels)
        .ok_or_else(|| EngineError::Config("a ticket has a label outside the class list".into()))?;

    let device = request.device.open()?;
    // The head is never used (features are mean-pooled), so any head will do.
    let (model, encoder) = load_model(
        &request.model,
        None,
        labels,
        HeadPolicy::InitIfMismatched,
        &device,
        request.seed,
        request.max_length,
    )?;
    let encoding_started = Instant::now();
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let Some(rows) = encoder.encode_cancellable(&texts, cancel)? else {
        return Ok(None);
    };
    let total = rows.len();
    let mut progress = |done| on_progress(SuspectProgress::Encoding { done, total });
    let batch = request.batch_size;
    let Some(features) = encode(&model, &encoder, &rows, batch, &mut progress, cancel)? else {
        return Ok(None);
    };
    let encoding_seconds = encoding_started.elapsed().as_secs_f64();

    let fold_of = stratified_folds(&given, labels.len(), request.folds, request.seed);
    let mut probs = vec![Vec::new(); examples.len()];
    for fold in 0..request.folds {
        on_progress(SuspectProgress::Fitting {
            fold: fold + 1,
            folds: request.folds,
        });
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..examples.len()).partition(|&i| fold_of[i] != fold);
        let Some(fold_probs) = held_out(&features, &given, labels.len(), &train, &test, cancel)?
        else {
            return Ok(None);
        };
        for (&i, p) in test.iter().zip(fold_probs) {
            probs[i] = p;
        }
    }
    if cancel.load(Ordering::Relaxed) {
        return Ok(None);
    }

    let correct = probs
        .iter()
        .zip(&given)
        .filter(|(p, &g)| argmax(p) == g)
        .count();
    let thresholds = class_thresholds(&probs, &given, labels.len());
    let suspects = confident_learning(&probs, &given, labels.len())
        .into_iter()
        .map(|(row, likely, margin)| {
            let (e, p) = (&examples[row], &probs[row]);
            Suspect {
                line: e.line,
                text: e.text.clone(),
                given: e.label.clone(),
                likely: labels[likely].clone(),
                confidence: f64::from(p[likely]),
                given_confidence: f64::from(p[given[row]]),
                margin,
            }
        })
        .collect();
    let mut rows_per_class = vec![0; labels.len()];
    for &g in &given {
        rows_per_class[g] += 1;
    }
    Ok(Some(SuspectReport {
        suspects,
        rows: examples.len(),
        folds: request.folds,
        held_out_accuracy: correct as f64 / examples.len() as f64,
        thresholds: labels
            .iter()
            .zip(rows_per_class)
            .zip(thresholds)
            .map(|((label, rows), threshold)| ClassThreshold {
                label: label.clone(),
                rows,
                threshold,
            })
            .collect(),
        encoding_seconds,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// Class probabilities of the `test` rows of `features` from a linear head fitted on
/// the `train` rows (features standardised by the training rows' moments). `None` if
/// cancelled.
fn held_out(
    features: &Tensor,
    given: &[usize],
    classes: usize,
    train: &[usize],
    test: &[usize],
    cancel: &AtomicBool,
) -> Result<Option<Vec<Vec<f32>>>> {
    let rows = |idx: &[usize]| -> Result<Tensor> {
        let idx: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
        Ok(features.index_select(&Tensor::new(idx.as_slice(), &Device::Cpu)?, 0)?)
    };
    let train_x = rows(train)?;
    let (mean, std) = moments(&train_x)?;
    let xs = standardise(&train_x, &mean, &std)?;
    let targets: Vec<u32> = train.iter().map(|&i| given[i] as u32).collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu)?;
    let Some((w, b, _)) = fit_softmax(&xs, &targets, classes, PENALTY, FOLD_STEPS, cancel)? else {
        return Ok(None);
    };
    let test_x = standardise(&rows(test)?, &mean, &std)?;
    let logits = test_x
        .matmul(&w.t()?)?
        .broadcast_add(&b)?
        .to_vec2::<f32>()?;
    Ok(Some(logits.iter().map(|l| softmax(l)).collect()))
}

/// The fold (`0..folds`) of each row: stratified by `given` class, so that each class
/// is spread over the folds as evenly as its count allows, and the folds' sizes differ
/// by at most one. Seeded: the same inputs give the same folds. (Rows of a class not
/// below `classes` are left in fold 0.)
pub fn stratified_folds(given: &[usize], classes: usize, folds: usize, seed: u64) -> Vec<usize> {
    let folds = folds.max(1);
    let mut by_class = vec![Vec::new(); classes];
    for (row, &class) in given.iter().enumerate() {
        if let Some(rows) = by_class.get_mut(class) {
            rows.push(row);
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fold_of = vec![0; given.len()];
    // Dealt in turn, continuing from one class to the next, so small classes do not
    // all land in the first folds.
    let mut next = 0;
    for rows in &mut by_class {
        rows.shuffle(&mut rng);
        for &row in rows.iter() {
            fold_of[row] = next % folds;
            next += 1;
        }
    }
    fold_of
}

/// Per class `j`, the mean of `probs[i][j]` over the rows `i` labelled `j` whose
/// probabilities are all finite; `None` where there are no such rows.
fn class_thresholds(probs: &[Vec<f32>], given: &[usize], classes: usize) -> Vec<Option<f64>> {
    let mut sums = vec![(0.0f64, 0usize); classes];
    for (p, &g) in probs.iter().zip(given) {
        if g < classes && usable(p, classes) {
            sums[g].0 += f64::from(p[g]);
            sums[g].1 += 1;
        }
    }
    sums.into_iter()
        .map(|(sum, n)| (n > 0).then(|| sum / n as f64))
        .collect()
}

/// Whether a row of probabilities can take part: one per class, all finite.
fn usable(p: &[f32], classes: usize) -> bool {
    p.len() == classes && p.iter().all(|v| v.is_finite())
}

/// Confident learning on held-out probabilities `probs` (rows × `classes`) and the
/// given labels: the rows in the off-diagonal of the confident joint, as
/// `(row, likely class, margin)`, most suspect first.
///
/// - Each class `j` has a threshold `t_j`: the mean of `p_j` over the rows labelled
///   `j` (the class's average self-confidence). A class no row is labelled with has
///   none and is never a candidate.
/// - A row's candidates are the classes with `p_j ≥ t_j` (less a tolerance of 1e-6);
///   its confident class is the candidate of largest `p_j` (the lowest index on ties).
///   A row with no candidate counts nowhere.
/// - A row whose confident class is not its given one is in the off-diagonal: a
///   suspect, with margin `p_likely − p_given` (positive, or 0 when they tie).
/// - Suspects are ranked by margin, largest first, then by row. There is no pruning by
///   estimated noise rates (cleanlab's `prune_by_noise_rate`): every off-diagonal row
///   is returned, and the ranking decides which to look at.
///
/// Rows with a non-finite probability, the wrong number of them, or a given label out
/// of range take no part, in the thresholds or the result.
pub fn confident_learning(
    probs: &[Vec<f32>],
    given: &[usize],
    classes: usize,
) -> Vec<(usize, usize, f64)> {
    let thresholds = class_thresholds(probs, given, classes);
    let mut suspects: Vec<(usize, usize, f64)> = probs
        .iter()
        .zip(given)
        .enumerate()
        .filter(|(_, (p, &g))| g < classes && usable(p, classes))
        .filter_map(|(row, (p, &g))| {
            let likely = confident_class(p, &thresholds)?;
            (likely != g).then(|| (row, likely, f64::from(p[likely]) - f64::from(p[g])))
        })
        .collect();
    suspects.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    suspects
}

/// The class of largest probability among those reaching their threshold (the first
/// on ties); `None` when none does.
fn confident_class(p: &[f32], thresholds: &[Option<f64>]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (j, (&pj, t)) in p.iter().zip(thresholds).enumerate() {
        let reaches = t.is_some_and(|t| f64::from(pj) >= t - THRESHOLD_TOLERANCE);
        if reaches && best.is_none_or(|(_, b)| pj > b) {
            best = Some((j, pj));
        }
    }
    best.map(|(j, _)| j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_learning_matches_the_hand_computed_case() {
        // 6 rows, 3 classes; given labels 0, 0, 1, 1, 2, 2.
        let probs = vec![
            vec![0.7, 0.2, 0.1],   // row 0, given 0
            vec![0.2, 0.7, 0.1],   // row 1, given 0 (looks like 1)
            vec![0.1, 0.8, 0.1],   // row 2, given 1
            vec![0.5, 0.4, 0.1],   // row 3, given 1 (looks like 0)
            vec![0.1, 0.1, 0.8],   // row 4, given 2
            vec![0.05, 0.5, 0.45], // row 5, given 2 (torn between 1 and 2)
        ];
        let given = [0, 0, 1, 1, 2, 2];
        // Thresholds, the mean self-confidence per class:
        //   t0 = (0.7 + 0.2) / 2 = 0.45
        //   t1 = (0.8 + 0.4) / 2 = 0.60
        //   t2 = (0.8 + 0.45) / 2 = 0.625
        // Candidates (p_j ≥ t_j) and confident class:
        //   row 0: {0}        → 0 = given
        //   row 1: {1}        → 1 ≠ 0, margin 0.7 − 0.2 = 0.5
        //   row 2: {1}        → 1 = given
        //   row 3: {0}        → 0 ≠ 1, margin 0.5 − 0.4 = 0.1
        //   row 4: {2}        → 2 = given
        //   row 5: {} (0.5 < t1, 0.45 < t2) → no confident class, not flagged,
        //          though its argmax (1) is not its given label.
        let found = confident_learning(&probs, &given, 3);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (1, 1));
        assert!((found[0].2 - 0.5).abs() < 1e-6, "{found:?}");
        assert_eq!((found[1].0, found[1].1), (3, 0));
        assert!((found[1].2 - 0.1).abs() < 1e-6, "{found:?}");
        assert_eq!(
            class_thresholds(&probs, &given, 3)
                .into_iter()
                .map(|t| (t.unwrap() * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>(),
            [0.45, 0.6, 0.625]
        );
    }

    #[test]
    fn confident_learning_picks_the_most_probable_candidate() {
        // Given 0 for rows 0–1, 1 for rows 2–3; class 2 has no rows (no threshold).
        // t0 = (0.6 + 0.1) / 2 = 0.35, t1 = (0.5 + 0.3) / 2 = 0.4.
        // Row 1: candidates {0 (0.1 < 0.35: no), 1 (0.45 ≥ 0.4)} → 1; class 2's 0.45 is
        // never a candidate. Row 3: candidates {0 (0.4 ≥ 0.35), 1 (0.3 < 0.4: no)} → 0,
        // margin 0.1. Row 1: margin 0.45 − 0.1 = 0.35.
        let probs = vec![
            vec![0.6, 0.3, 0.1],
            vec![0.1, 0.45, 0.45],
            vec![0.3, 0.5, 0.2],
            vec![0.4, 0.3, 0.3],
        ];
        let found = confident_learning(&probs, &[0, 0, 1, 1], 3);
        let rows: Vec<(usize, usize)> = found.iter().map(|&(r, c, _)| (r, c)).collect();
        assert_eq!(rows, [(1, 1), (3, 0)]);
        assert!((found[0].2 - 0.35).abs() < 1e-6 && (found[1].2 - 0.1).abs() < 1e-6);
    }

    #[test]
    fn confident_learning_skips_unusable_rows_and_breaks_ties_by_row() {
        let probs = vec![
            vec![0.6, 0.4],
            vec![f32::NAN, 0.5], // not finite: takes no part
            vec![0.1, 0.9],
            vec![0.7, 0.3],
            vec![0.7, 0.3], // the same as row 3
            vec![0.5],      // one probability for two classes: no part
            vec![0.0, 1.0], // given label out of range: no part
        ];
        let given = [0, 0, 1, 1, 1, 1, 5];
        // t0 = 0.6 (row 0 alone: row 1 would make it NaN); t1 = (0.9 + 0.3 + 0.3) / 3
        // = 0.5. Rows 3 and 4: candidates {0} (0.7 ≥ 0.6; 0.3 < 0.5) → 0 ≠ 1, margin
        // 0.7 − 0.3 = 0.4 each: ranked by row. Row 0 reaches t0 exactly (given).
        let found = confident_learning(&probs, &given, 2);
        let rows: Vec<(usize, usize)> = found.iter().map(|&(r, c, _)| (r, c)).collect();
        assert_eq!(rows, [(3, 0), (4, 0)], "{found:?}");
        assert!(found.iter().all(|s| (s.2 - 0.4).abs() < 1e-6));
        assert!(confident_learning(&[], &[], 3).is_empty());
    }

    #[test]
    fn stratified_folds_cover_every_row_once_evenly_and_repeatably() {
        // 3 classes of 7, 2 and 11 rows (fewer rows than folds in class 1), 5 folds.
        let given: Vec<usize> = (0..20)
            .map(|i| match i % 10 {
                0 => 1,
                1..=3 | 5 => 0,
                _ => 2,
            })
            .collect();
        let folds = stratified_folds(&given, 3, 5, 42);
        assert_eq!(folds.len(), given.len());
        assert!(folds.iter().all(|&f| f < 5));
        let mut sizes = [0; 5];
        for &f in &folds {
            sizes[f] += 1;
        }
        assert_eq!(sizes, [4; 5]);
        for class in 0..3 {
            let mut per_fold = [0; 5];
            for (&f, _) in folds.iter().zip(&given).filter(|(_, &g)| g == class) {
                per_fold[f] += 1;
            }
            let (lo, hi) = (per_fold.iter().min(), per_fold.iter().max());
            assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{per_fold:?}");
        }
        assert_eq!(folds, stratified_folds(&given, 3, 5, 42));
        assert_ne!(folds, stratified_folds(&given, 3, 5, 7));
    }

    #[test]
    fn held_out_heads_flag_flipped_labels_on_separable_features() {
        // Three well-separated clusters in 4 dimensions, 20 rows each; two labels
        // flipped. Each fold's head learns the clusters from the other rows, so both
        // flips are found first.
        let mut x = Vec::new();
        let mut given = Vec::new();
        for row in 0..60usize {
            let class = row % 3;
            let jitter = ((row * 37 % 11) as f32 - 5.0) * 0.05;
            let mut v = [jitter, -jitter, 0.5 * jitter, 0.0];
            v[class] += 3.0;
            x.extend(v);
            given.push(class);
        }
        given[4] = 2; // truly 1
        given[30] = 1; // truly 0
        let features = Tensor::from_vec(x, (60, 4), &Device::Cpu).unwrap();
        let fold_of = stratified_folds(&given, 3, 5, 1);
        let mut probs = vec![Vec::new(); 60];
        let cancel = AtomicBool::new(false);
        for fold in 0..5 {
            let (train, test): (Vec<usize>, Vec<usize>) =
                (0..60).partition(|&i| fold_of[i] != fold);
            let p = held_out(&features, &given, 3, &train, &test, &cancel)
                .unwrap()
                .unwrap();
            for (&i, p) in test.iter().zip(p) {
                probs[i] = p;
            }
        }
        let found = confident_learning(&probs, &given, 3);
        let top: Vec<(usize, usize)> = found.iter().take(2).map(|&(r, c, _)| (r, c)).collect();
        assert!(top.contains(&(4, 1)) && top.contains(&(30, 0)), "{found:?}");
        let cancelled = held_out(
            &features,
            &given,
            3,
            &[0, 1, 2],
            &[3],
            &AtomicBool::new(true),
        );
        assert!(cancelled.unwrap().is_none());
    }
}
