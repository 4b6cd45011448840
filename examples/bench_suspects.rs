//! How well suspect labels find wrong labels, and how fast: a seeded share of a
//! labelled file's labels is flipped to another class (uniformly chosen), then
//! `find_suspects` runs with all-MiniLM-L6-v2 on the CPU, and the flipped tickets are
//! looked for among the top k suspects (k = the number flipped) and in the whole list.
//! Prints one JSON object. Run by `bench/suspects.sh`; not a test.
//!
//! Usage: bench_suspects DATA_CSV (text,label) [FLIP_FRACTION=0.05] [SEED=42]
//! [MAX_ROWS (a stratified sample; empty: all)] [FOLDS=5]

use dialect::dataset::{read_labeled, sample};
use dialect::train::{find_suspects, Suspect, SuspectProgress, SuspectRequest};
use dialect::{DeviceChoice, TextSpec};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

type Failure = Box<dyn std::error::Error>;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

fn main() -> Result<(), Failure> {
    dialect::runtime::tune();
    let args: Vec<String> = std::env::args().collect();
    let [_, data, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: bench_suspects DATA_CSV [FLIP_FRACTION] [SEED] [MAX_ROWS] [FOLDS]".into(),
        );
    };
    let fraction: f64 = rest.first().map_or(Ok(0.05), |s| s.parse())?;
    let seed: u64 = rest.get(1).map_or(Ok(42), |s| s.parse())?;
    let max_rows: Option<usize> = rest
        .get(2)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse())
        .transpose()?;
    let folds: usize = rest.get(3).map_or(Ok(5), |s| s.parse())?;

    let file = read_labeled(Path::new(data), &TextSpec::column("text"), "label", None)?;
    let labels = file.labels;
    let mut examples = sample(&file.examples, seed, max_rows)?.unwrap_or(file.examples);
    if labels.len() < 2 {
        return Err("the data needs at least 2 classes".into());
    }

    // Flip exactly round(fraction × rows) labels, each to one of the other classes.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    let k = ((examples.len() as f64 * fraction).round() as usize).min(examples.len());
    let mut flipped = HashSet::new();
    for &i in &order[..k] {
        let given = labels
            .iter()
            .position(|l| *l == examples[i].label)
            .ok_or("a label outside the class list")?;
        let other = (given + rng.random_range(1..labels.len())) % labels.len();
        examples[i].label = labels[other].clone();
        flipped.insert(examples[i].line);
    }

    let request = SuspectRequest {
        model: MODEL.into(),
        max_length: 128,
        folds,
        seed,
        device: DeviceChoice::Cpu,
        ..SuspectRequest::default()
    };
    let started = Instant::now();
    let mut folds_started = None;
    let mut on_progress = |p: SuspectProgress| {
        if matches!(p, SuspectProgress::Fitting { fold: 1, .. }) {
            folds_started = Some(Instant::now());
        }
    };
    let report = find_suspects(
        &request,
        &examples,
        &labels,
        &mut on_progress,
        &AtomicBool::new(false),
    )?
    .ok_or("cancelled")?;
    let folds_seconds = folds_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let wall = started.elapsed().as_secs_f64();

    let is_flip = |s: &&Suspect| flipped.contains(&s.line);
    let found_top_k = report.suspects.iter().take(k).filter(is_flip).count();
    let found_flagged = report.suspects.iter().filter(is_flip).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    // The engine's own description: model name, threads, and the kernels' ISA path.
    let cpu = dialect::device::available_devices()
        .into_iter()
        .find(|d| d.choice == DeviceChoice::Cpu)
        .and_then(|d| d.name)
        .unwrap_or_else(|| "unknown".into());
    let report = json!({
        "data": data,
        "rows": report.rows,
        "classes": labels.len(),
        "flip_fraction": fraction,
        "seed": seed,
        "folds": report.folds,
        "flipped": k,
        "k": k,
        "found_in_top_k": found_top_k,
        "recall_at_k": ratio(found_top_k, k),
        "precision_at_k": ratio(found_top_k, k),
        "flagged": report.suspects.len(),
        "found_in_flagged": found_flagged,
        "recall_flagged": ratio(found_flagged, k),
        "precision_flagged": ratio(found_flagged, report.suspects.len()),
        "held_out_accuracy": report.held_out_accuracy,
        "encoding_seconds": report.encoding_seconds,
        "folds_seconds": folds_seconds,
        "seconds": report.seconds,
        "wall_seconds": wall,
        "cpu": cpu,
        "threads": rayon::current_num_threads(),
    });
    println!("{report}");
    Ok(())
}
