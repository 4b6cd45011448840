//! Prediction speed of a saved model, as the Try box and batch prediction use it:
//! single-ticket latency (warm, one text at a time) and batch throughput, in f32 and
//! in int8, and how often the two predict the same class on the batch's texts.
//! Prints one JSON object. Run by `bench/predict.sh`; not a test.
//!
//! Usage: bench_predict MODEL_DIR TEXTS_FILE (one text per line) [SINGLE_N] [BATCH_N]

use dialect::{DeviceChoice, Prediction, PredictionPrecision, Predictor};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
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
    let batch: Vec<String> = texts.iter().cycle().take(batch_n).cloned().collect();
    let mut report = json!({"single_n": single_n, "batch_n": batch_n});
    let mut predicted = Vec::new();
    for precision in [PredictionPrecision::F32, PredictionPrecision::Int8] {
        let predictor = Predictor::load_with(Path::new(model), DeviceChoice::Cpu, Some(precision))?;
        let (figures, predictions) = measure(&predictor, &texts, &batch, single_n)?;
        report[precision.name()] = figures;
        predicted.push(predictions);
    }
    let (f32s, int8s) = (&predicted[0], &predicted[1]);
    let same = f32s
        .iter()
        .zip(int8s)
        .filter(|(a, b)| a.label == b.label)
        .count();
    let max_change = f32s
        .iter()
        .zip(int8s)
        .flat_map(|(a, b)| a.scores.iter().zip(&b.scores))
        .map(|(a, b)| (a.probability - b.probability).abs())
        .fold(0f32, f32::max);
    report["int8_agreement"] = json!(same as f64 / f32s.len().max(1) as f64);
    report["int8_max_probability_change"] = json!(max_change);
    println!("{report}");
    Ok(())
}

/// Latency percentiles over `single_n` one-text calls and the throughput of one call on
/// `batch`, whose predictions are returned too.
fn measure(
    predictor: &Predictor,
    texts: &[String],
    batch: &[String],
    single_n: usize,
) -> Result<(Value, Vec<Prediction>), Failure> {
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
    let start = Instant::now();
    let predictions = predictor.predict(batch)?;
    let batch_seconds = start.elapsed().as_secs_f64();
    Ok((
        json!({
            "p50_ms": pct(0.5),
            "p95_ms": pct(0.95),
            "batch_texts_per_s": batch.len() as f64 / batch_seconds,
        }),
        predictions,
    ))
}
