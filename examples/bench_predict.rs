//! Prediction speed of a saved model, as the Try box and batch prediction use it:
//! single-ticket latency (warm, one text at a time) and batch throughput.
//! Prints one JSON object. Run by `bench/predict.sh`; not a test.
//!
//! Usage: bench_predict MODEL_DIR TEXTS_FILE (one text per line) [SINGLE_N] [BATCH_N]

use dialect::{DeviceChoice, Predictor};

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    dialect::runtime::tune();
    let args: Vec<String> = std::env::args().collect();
    let [_, model, texts, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_predict MODEL_DIR TEXTS_FILE [SINGLE_N] [BATCH_N]".into());
    };
    let single_n: usize = rest.first().map_or(Ok(200), |s| s.parse())?;
    let batch_n: usize = rest.get(1).map_or(Ok(512), |s| s.parse())?;
    let texts: Vec<String> = std::fs::read_to_string(texts)?
        .lines()
        .map(str::to_string)
        .collect();
    let predictor = Predictor::load(std::path::Path::new(model), DeviceChoice::Cpu)?;

    // Warm-up: first calls allocate and fill caches.
    for text in texts.iter().take(10) {
        predictor.predict(std::slice::from_ref(text))?;
    }
    let mut latencies: Vec<f64> = texts
        .iter()
        .cycle()
        .take(single_n)
        .map(|text| {
            let start = Instant::now();
            predictor
                .predict(std::slice::from_ref(text))
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];

    let batch: Vec<String> = texts.iter().cycle().take(batch_n).cloned().collect();
    let start = Instant::now();
    predictor.predict(&batch)?;
    let batch_seconds = start.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "p50_ms": pct(0.5),
            "p95_ms": pct(0.95),
            "single_n": single_n,
            "batch_texts_per_s": batch_n as f64 / batch_seconds,
            "batch_n": batch_n,
        })
    );
    Ok(())
}
