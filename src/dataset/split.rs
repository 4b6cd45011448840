//! Seeded, stratified train/validation split.

use super::Example;
use crate::error::{EngineError, Result};
use crate::settings::SplitPlan;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use std::collections::BTreeMap;

/// Split `examples` so that each class contributes about `fraction` of its rows to
/// validation (at least one, and at least one stays in training). A class with fewer
/// than two rows cannot be on both sides: that is an error naming it and what to do.
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
    let mut by_class: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
    for e in examples {
        by_class.entry(e.label.as_str()).or_default().push(e);
    }
    let too_small: Vec<&str> = by_class
        .iter()
        .filter(|(_, rows)| rows.len() < 2)
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
            })
            .collect();
        let err = stratified_split(&rows, 0.1, 1).unwrap_err().to_string();
        assert!(err.contains("and 4990 more have too few examples"), "{err}");
        assert!(err.len() < 400, "{} characters", err.len());
    }
}
