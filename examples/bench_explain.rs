//! Whether explanations are faithful, and how fast they come: on held-out tickets, the
//! predicted class's probability after deleting the k words the explanation ranks
//! highest for it, against deleting k words drawn at random (k = 1, 3, 5) and the k it
//! ranks lowest (those pushing away from the class: the probability should rise), and
//! the latency of `Predictor::explain` per ticket. Words are deleted from the text
//! itself (each replaced by a space, then predicted as a new ticket), independently of
//! how the explanation measured them. Prints one JSON object. Run by
//! `bench/explain.sh`; not a test.
//!
//! Usage: bench_explain MODEL_DIR DATA_CSV (text,label; its first N rows) [N=200]
//! [DRAWS=5] [SEED=42] [PRECISION=f32|int8 (default: the model's own)]

use dialect::dataset::read_labeled;
use dialect::explain::Explanation;
use dialect::model_card::ModelCard;
use dialect::{DeviceChoice, PredictionPrecision, Predictor, TextSpec};
use rand::{rngs::StdRng, seq::index, SeedableRng};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

#[path = "common/process.rs"]
mod process;
use process::cpu_seconds;

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

type Failure = Box<dyn std::error::Error>;

/// How many words each test deletes.
const KS: [usize; 3] = [1, 3, 5];

/// One k's figures over the tickets with more than k words.
#[derive(Default)]
struct Deletions {
    tickets: usize,
    /// Sums of the predicted class's probability drop.
    top_drop: f64,
    random_drop: f64,
    bottom_drop: f64,
    /// Tickets where deleting the top k dropped it more than the random draws' mean.
    top_wins: usize,
    /// Tickets (top k) and draws (random) whose predicted class changed.
    top_flips: usize,
    random_flips: usize,
}

fn main() -> Result<(), Failure> {
    dialect::runtime::tune();
    let args: Vec<String> = std::env::args().collect();
    let [_, model, data, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: bench_explain MODEL_DIR DATA_CSV [N] [DRAWS] [SEED] [PRECISION]".into(),
        );
    };
    let n: usize = rest.first().map_or(Ok(200), |s| s.parse())?;
    let draws: usize = rest.get(1).map_or(Ok(5), |s| s.parse())?;
    let seed: u64 = rest.get(2).map_or(Ok(42), |s| s.parse())?;
    let precision: Option<PredictionPrecision> = rest.get(3).map(|s| s.parse()).transpose()?;

    let predictor = Predictor::load_with(Path::new(model), DeviceChoice::Cpu, precision)?;
    let file = read_labeled(Path::new(data), &TextSpec::column("text"), "label", None)?;
    // The file's first N tickets (bench/explain.sh shuffles the held-out rows).
    let examples: Vec<_> = file.examples.into_iter().take(n).collect();
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    // Tickets that fill the model's length (~128 tokens), timed apart.
    let max_length = ModelCard::load(Path::new(model)).map_or(128, |c| c.max_length);
    let lengths: Vec<usize> = predictor
        .encode(&texts)?
        .iter()
        .map(|e| e.ids.len())
        .collect();

    // Warm up (first-touch pages, the kernels' one-off set-up) before timing.
    predictor.explain(&texts[0])?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut latency = Vec::new();
    let mut latency_full = Vec::new();
    // CPU time of the process over the threads, per explanation: what the wall time
    // would be on idle cores (this VM is shared; the wall time counts others' load).
    let threads = rayon::current_num_threads() as f64;
    let mut cpu = Vec::new();
    let mut cpu_full = Vec::new();
    let mut words_full = Vec::new();
    let mut word_counts = Vec::new();
    let mut by_k: Vec<Deletions> = KS.iter().map(|_| Deletions::default()).collect();
    let mut correct = 0;
    for (example, &length) in examples.iter().zip(&lengths) {
        let (started, cpu_started) = (Instant::now(), cpu_seconds());
        let e = predictor.explain(&example.text)?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = (cpu_seconds() - cpu_started) * 1e3 / threads;
        latency.push(ms);
        cpu.push(cpu_ms);
        word_counts.push(e.words.len() as f64);
        if length == max_length {
            latency_full.push(ms);
            cpu_full.push(cpu_ms);
            words_full.push(e.words.len() as f64);
        }
        let c = e.predicted;
        correct += usize::from(e.labels[c] == example.label);
        let ranked = e.ranked(c);
        for (k, stats) in KS.iter().zip(&mut by_k) {
            if e.words.len() <= *k {
                continue;
            }
            // One batch per ticket and k: the top k, the bottom k, then random draws.
            let bottom = &ranked[ranked.len() - k..];
            let mut edited = vec![deleted(&e, &ranked[..*k]), deleted(&e, bottom)];
            for _ in 0..draws {
                edited.push(deleted(
                    &e,
                    &index::sample(&mut rng, e.words.len(), *k).into_vec(),
                ));
            }
            let predictions = predictor.predict(&edited)?;
            let p = e.probabilities[c] as f64;
            let drops: Vec<f64> = predictions
                .iter()
                .map(|pr| p - pr.scores[c].probability as f64)
                .collect();
            let random = drops[2..].iter().sum::<f64>() / draws as f64;
            stats.tickets += 1;
            stats.top_drop += drops[0];
            stats.bottom_drop += drops[1];
            stats.random_drop += random;
            stats.top_wins += usize::from(drops[0] > random);
            stats.top_flips += usize::from(predictions[0].label != e.labels[c]);
            stats.random_flips += predictions[2..]
                .iter()
                .filter(|pr| pr.label != e.labels[c])
                .count();
        }
    }

    let deletions: Vec<_> = KS
        .iter()
        .zip(&by_k)
        .map(|(k, s)| {
            let t = s.tickets.max(1) as f64;
            json!({
                "k": k,
                "tickets": s.tickets,
                "top_k_mean_drop": s.top_drop / t,
                "random_mean_drop": s.random_drop / t,
                "bottom_k_mean_drop": s.bottom_drop / t,
                "top_k_beats_random": s.top_wins as f64 / t,
                "top_k_flips": s.top_flips as f64 / t,
                "random_flips": s.random_flips as f64 / (t * draws as f64),
            })
        })
        .collect();
    // The engine's own description: model name, threads, and the kernels' ISA path.
    let cpu_name = dialect::device::available_devices()
        .into_iter()
        .find(|d| d.choice == DeviceChoice::Cpu)
        .and_then(|d| d.name)
        .unwrap_or_else(|| "unknown".into());
    let report = json!({
        "model": model,
        "data": data,
        "tickets": examples.len(),
        "classes": predictor.labels().len(),
        "accuracy": correct as f64 / examples.len().max(1) as f64,
        "precision": predictor.precision().name(),
        "int8_check_passed": predictor.int8_check().map(|c| c.passed()),
        "temperature": predictor.temperature(),
        "max_length": max_length,
        "draws": draws,
        "seed": seed,
        "deletions": deletions,
        "words_mean": mean(&word_counts),
        "latency_ms": { "p50": percentile(&latency, 0.5), "p95": percentile(&latency, 0.95) },
        "cpu_ms_per_thread": { "p50": percentile(&cpu, 0.5), "p95": percentile(&cpu, 0.95) },
        "full_length": {
            "tickets": latency_full.len(),
            "words_mean": mean(&words_full),
            "latency_ms": { "p50": percentile(&latency_full, 0.5), "p95": percentile(&latency_full, 0.95) },
            "cpu_ms_per_thread": { "p50": percentile(&cpu_full, 0.5), "p95": percentile(&cpu_full, 0.95) },
        },
        "cpu": cpu_name,
        "load_average": load_average(),
        "threads": rayon::current_num_threads(),
    });
    println!("{report}");
    Ok(())
}

/// The explained text with `words` deleted: each replaced by a space, so that the
/// words on either side stay apart (and tokenise as before).
fn deleted(e: &Explanation, words: &[usize]) -> String {
    e.pieces
        .iter()
        .map(|p| match p.word {
            Some(w) if words.contains(&w) => " ",
            _ => p.text.as_str(),
        })
        .collect()
}

/// The 1, 5 and 15-minute load averages when the run ends (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The `q` quantile (nearest rank); 0 for no values.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
