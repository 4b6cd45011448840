//! Seeded, stratified train/validation split.

use super::Example;
use crate::error::{EngineError, Result};
use crate::settings::SplitPlan;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use std::collections::BTreeMap;

/// Split `examples` so that each class contributes about `fraction` of its rows to
/// validation (at least one, and at least one stays in training). A class with fewer
/// than two rows cannot be on both sides: that is an error naming it and what to do.
/// Multi-label tickets are stratified by their rarest class (see [`strata`]); a
/// stratum of one row stays in training.
pub fn stratified_split(
    examples: &[Example],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<Example>, Vec<Example>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(EngineError::Config(format!(
            "validation fraction must be between 0 and 1 (exclusive), got {fraction}"
        )));
    }
    let multi_label = examples.iter().any(|e| e.labels.is_some());
    let mut by_class: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
    for (e, stratum) in examples.iter().zip(strata(examples)) {
        by_class.entry(stratum).or_default().push(e);
    }
    let too_small: Vec<&str> = by_class
        .iter()
        .filter(|(_, rows)| rows.len() < 2 && !multi_label)
        .map(|(label, _)| *label)
        .collect();
    if !too_small.is_empty() {
        return Err(EngineError::Config(format!(
            "{} too few examples (1 row) to appear in both training and validation: \
             merge {}, drop {}, or add examples",
            name_some(&too_small),
            if too_small.len() == 1 {
                "it into another class"
            } else {
                "them into other classes"
            },
            if too_small.len() == 1 { "it" } else { "them" },
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut validation) = (Vec::new(), Vec::new());
    for rows in by_class.values() {
        if rows.len() < 2 {
            train.extend(rows.iter().map(|e| (*e).clone()));
            continue;
        }
        let mut rows = rows.clone();
        rows.shuffle(&mut rng);
        let n_val = ((rows.len() as f64 * fraction).round() as usize).clamp(1, rows.len() - 1);
        validation.extend(rows[..n_val].iter().map(|e| (*e).clone()));
        train.extend(rows[n_val..].iter().map(|e| (*e).clone()));
    }
    train.shuffle(&mut rng);
    validation.sort_by_key(|e| e.line);
    Ok((train, validation))
}

/// Each example's stratum: its label; for a multi-label ticket its rarest class (the
/// fewest tickets of `examples`, ties by name), or `""` for an empty set.
fn strata(examples: &[Example]) -> Vec<&str> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for class in examples.iter().flat_map(Example::classes) {
        *counts.entry(class).or_default() += 1;
    }
    examples
        .iter()
        .map(|e| match &e.labels {
            None => e.label.as_str(),
            Some(set) => set
                .iter()
                .map(String::as_str)
                .min_by_key(|c| (counts.get(c).copied().unwrap_or(0), *c))
                .unwrap_or(""),
        })
        .collect()
}

/// Offsets the seed of the row sample so it is not the validation split's draw.
const SAMPLE_SEED: u64 = 0x5eed;

/// The split training makes when no validation file is given: a stratified sample of
/// at most `plan.max_rows` rows (all when `None`), then [`stratified_split`].
pub fn holdout(examples: &[Example], plan: &SplitPlan) -> Result<(Vec<Example>, Vec<Example>)> {
    let (fraction, seed) = (plan.validation_fraction, plan.seed);
    match sample(examples, seed, plan.max_rows)? {
        Some(sampled) => stratified_split(&sampled, fraction, seed),
        None => stratified_split(examples, fraction, seed),
    }
}

/// A stratified sample of at most `max_rows` of `examples`; `None` when all are kept.
pub fn sample(
    examples: &[Example],
    seed: u64,
    max_rows: Option<usize>,
) -> Result<Option<Vec<Example>>> {
    match max_rows {
        Some(0) => Err(EngineError::Config("max rows must be at least 1".into())),
        Some(max) if max < examples.len() => {
            let share = max as f64 / examples.len() as f64;
            Ok(Some(
                stratified_split(examples, share, seed.wrapping_add(SAMPLE_SEED))?.1,
            ))
        }
        _ => Ok(None),
    }
}

/// "class 'a' has" or "classes 'a', 'b' … and N more have", naming at most 10.
fn name_some(labels: &[&str]) -> String {
    const SHOWN: usize = 10;
    let named: Vec<String> = labels
        .iter()
        .take(SHOWN)
        .map(|l| format!("'{l}'"))
        .collect();
    match labels.len() {
        1 => format!("class {} has", named[0]),
        n if n <= SHOWN => format!("classes {} have", named.join(", ")),
        n => format!("classes {} and {} more have", named.join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(counts: &[(&str, usize)]) -> Vec<Example> {
        let mut out = Vec::new();
        for (label, n) in counts {
            for i in 0..*n {
                out.push(Example {
                    text: format!("{label} {i}"),
                    label: label.to_string(),
                    line: out.len() + 2,
                    labels: None,
                });
            }
        }
        out
    }

    #[test]
    fn keeps_class_proportions_and_is_seeded() {
        let data = examples(&[("a", 100), ("b", 30), ("c", 10)]);
        let (train, val) = stratified_split(&data, 0.1, 42).unwrap();
        assert_eq!(train.len() + val.len(), 140);
        let count = |v: &[Example], l: &str| v.iter().filter(|e| e.label == l).count();
        assert_eq!(
            (count(&val, "a"), count(&val, "b"), count(&val, "c")),
            (10, 3, 1)
        );
        let (train2, val2) = stratified_split(&data, 0.1, 42).unwrap();
        assert_eq!((train, val), (train2, val2));
    }

    #[test]
    fn label_sets_are_stratified_by_their_rarest_class() {
        let set = |labels: &[&str], line| {
            Example::with_labels(
                format!("ticket {line}"),
                labels.iter().map(|l| l.to_string()).collect(),
                line,
            )
        };
        // 'refund' is rare (4 rows, always with 'billing'); 'billing' is common.
        let mut data: Vec<Example> = (0..16).map(|i| set(&["billing"], i + 2)).collect();
        data.extend((0..4).map(|i| set(&["billing", "refund"], i + 20)));
        data.extend((0..8).map(|i| set(&[], i + 30)));
        data.push(set(&["lonely"], 40));
        assert_eq!(strata(&data)[17], "refund");
        let (train, val) = stratified_split(&data, 0.25, 7).unwrap();
        let has = |v: &[Example], l: &str| {
            v.iter()
                .filter(|e| e.labels.as_ref().unwrap().iter().any(|c| c == l))
                .count()
        };
        // Each stratum gives a quarter: refund 1 of 4, billing-only 4 of 16, empty 2
        // of 8; the single 'lonely' row stays in training.
        assert_eq!((has(&val, "refund"), has(&train, "refund")), (1, 3));
        assert_eq!(has(&val, "billing"), 5);
        assert_eq!(val.iter().filter(|e| e.label.is_empty()).count(), 2);
        assert_eq!(has(&train, "lonely"), 1);
        assert_eq!(stratified_split(&data, 0.25, 7).unwrap(), (train, val));
    }

    #[test]
    fn singleton_class_is_reported_with_advice() {
        let data = examples(&[("a", 10), ("lonely", 1)]);
        let msg = stratified_split(&data, 0.1, 1).unwrap_err().to_string();
        assert!(msg.contains("'lonely'") && msg.contains("merge"), "{msg}");
    }

    #[test]
    fn many_single_row_classes_are_named_in_a_bounded_message() {
        let rows: Vec<Example> = (0..5000)
            .map(|i| Example {
                text: format!("ticket {i}"),
                label: i.to_string(),
                line: i + 2,
                labels: None,
            })
            .collect();
        let err = stratified_split(&rows, 0.1, 1).unwrap_err().to_string();
        assert!(err.contains("and 4990 more have too few examples"), "{err}");
        assert!(err.len() < 400, "{} characters", err.len());
    }
}
