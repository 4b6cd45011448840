//! How fast and how exact the overlap check between a training file and a validation
//! file is (`dataset::overlap`): a training file against a validation set of 3,000 rows
//! built from it (1,000 repeats with case and punctuation changed, 1,000 with one word
//! replaced, 1,000 rows of another file), then against a real stratified split of
//! it. Times `overlap_pairs`, checks its pairs against comparing every pair, and prints
//! the nearest pairs just above the threshold, to judge by reading. Prints one JSON
//! object. Not a test.
//!
//! Usage: bench_overlap TRAIN_CSV OTHER_CSV (both text,label) [SEED=42]

use dialect::dataset::overlap::{overlap_pairs, NEAR_DUPLICATE_JACCARD};
use dialect::dataset::quality::normalise_text;
use dialect::dataset::{holdout, read_labeled, Example};
use dialect::settings::SplitPlan;
use dialect::TextSpec;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Instant;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let [_, train, other, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_overlap TRAIN_CSV OTHER_CSV [SEED]".into());
    };
    let seed: u64 = rest.first().map_or(Ok(42), |s| s.parse())?;
    let text = TextSpec::column("text");
    let train = read_labeled(Path::new(train), &text, "label", None)?.examples;
    let other = read_labeled(Path::new(other), &text, "label", None)?.examples;

    let mut rng = StdRng::seed_from_u64(seed);
    let mut picks: Vec<&Example> = train.iter().collect();
    picks.shuffle(&mut rng);
    let mut validation = Vec::new();
    for (i, e) in picks[..1000].iter().enumerate() {
        validation.push(row(format!("{}!!", e.text.to_uppercase()), i));
    }
    for (i, e) in picks[1000..2000].iter().enumerate() {
        let mut words: Vec<&str> = e.text.split_whitespace().collect();
        let at = i % words.len().max(1);
        if let Some(w) = words.get_mut(at) {
            *w = "zzzq";
        }
        validation.push(row(words.join(" "), 1000 + i));
    }
    for (i, e) in other.iter().take(1000).enumerate() {
        validation.push(row(e.text.clone(), 2000 + i));
    }

    let started = Instant::now();
    let pairs = overlap_pairs(&train, &validation);
    let seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let brute = every_pair(&train, &validation);
    let brute_seconds = started.elapsed().as_secs_f64();
    let found: Vec<(usize, String)> = pairs
        .iter()
        .map(|p| (p.validation_line, format!("{:.9}", p.similarity)))
        .collect();
    let agree = found == brute;
    let near_rewrites = pairs
        .iter()
        .filter(|p| (1000 + 2..2000 + 2).contains(&p.validation_line))
        .count();

    // A real split: the held-out side against the rest.
    let plan = SplitPlan {
        validation_fraction: 0.1,
        seed,
        max_rows: None,
    };
    let (split_train, split_val) = holdout(&train, &plan)?;
    let started = Instant::now();
    let split_pairs = overlap_pairs(&split_train, &split_val);
    let split_seconds = started.elapsed().as_secs_f64();
    let by_line: HashMap<usize, &str> = train.iter().map(|e| (e.line, e.text.as_str())).collect();
    let mut nearest: Vec<_> = split_pairs.iter().filter(|p| !p.exact).collect();
    nearest.sort_by(|a, b| a.similarity.total_cmp(&b.similarity));
    let examples: Vec<_> = nearest
        .iter()
        .take(8)
        .map(|p| {
            json!({
                "similarity": p.similarity,
                "validation": by_line.get(&p.validation_line),
                "training": by_line.get(&p.training_line),
            })
        })
        .collect();

    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "threshold": NEAR_DUPLICATE_JACCARD,
            "trainingRows": train.len(),
            "validationRows": validation.len(),
            "pairs": pairs.len(),
            "exact": pairs.iter().filter(|p| p.exact).count(),
            "oneWordReplacedFound": near_rewrites,
            "seconds": seconds,
            "everyPairSeconds": brute_seconds,
            "agreesWithEveryPair": agree,
            "split": {
                "trainingRows": split_train.len(),
                "validationRows": split_val.len(),
                "pairs": split_pairs.len(),
                "exact": split_pairs.iter().filter(|p| p.exact).count(),
                "seconds": split_seconds,
                "lowestNearPairs": examples,
            },
        }))?
    );
    Ok(())
}

fn row(text: String, i: usize) -> Example {
    Example {
        text,
        label: String::new(),
        line: i + 2,
        labels: None,
    }
}

/// For each validation row, the best similarity over all training rows when it reaches
/// the threshold (or the same normalised text): (line, similarity).
fn every_pair(train: &[Example], validation: &[Example]) -> Vec<(usize, String)> {
    let words = |e: &Example| -> (String, BTreeSet<String>) {
        let norm = normalise_text(&e.text);
        let set = norm
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        (norm, set)
    };
    let train: Vec<_> = train.iter().map(words).collect();
    let mut out = Vec::new();
    for v in validation {
        let (norm, set) = words(v);
        if norm.is_empty() {
            continue;
        }
        let best = train
            .iter()
            .map(|(tn, ts)| {
                if *tn == norm {
                    return 1.0;
                }
                let shared = set.intersection(ts).count() as f64;
                shared / ((set.len() + ts.len()) as f64 - shared)
            })
            .fold(0.0f64, f64::max);
        if best >= NEAR_DUPLICATE_JACCARD {
            out.push((v.line, format!("{best:.9}")));
        }
    }
    out
}
