//! The language check (`dialect::dataset::language`): how long a report takes on the
//! `../shared/data` files and on a 10,000-row file of German tickets, with the offline
//! model, and what it finds. Prints one JSON object; not a test.
//!
//! Usage: bench_language [DATA_DIR] [MODEL]

use dialect::dataset::language::{language_report, ChosenModel};
use dialect::dataset::{read_labeled, TextSpec};
use dialect::model::resolve::resolve_model;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

#[path = "common/process.rs"]
mod process;
use process::cpu_seconds;

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

type Failure = Box<dyn std::error::Error>;

const FILES: [&str; 2] = ["banking77_train.csv", "tickettagger_issues_train.csv"];
/// Runs per file; the best is reported.
const RUNS: usize = 5;
/// German support tickets, repeated with a number to make a 10,000-row file.
const GERMAN: [&str; 5] = [
    "Die Anwendung stürzt jedes Mal ab, wenn ich die Einstellungen öffnen möchte",
    "Ich kann mein Passwort nicht zurücksetzen, die Bestätigungsmail kommt nie an",
    "Bitte fügen Sie einen dunklen Modus für die mobile Anwendung hinzu",
    "Seit dem letzten Update werden meine Rechnungen nicht mehr heruntergeladen",
    "Meine Überweisung ist seit drei Tagen ausstehend, wann wird sie gutgeschrieben",
];

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("../shared/data", String::as_str);
    let model = args
        .get(2)
        .map_or("sentence-transformers/all-MiniLM-L6-v2", String::as_str);
    let folder = resolve_model(model)?;
    let chosen = ChosenModel {
        id: model,
        folder: Some(&folder),
    };
    let mut sets: Vec<(String, Vec<String>)> = Vec::new();
    for file in FILES {
        let data = read_labeled(
            &Path::new(dir).join(file),
            &TextSpec::column("text"),
            "label",
            None,
        )?;
        sets.push((
            file.into(),
            data.examples.into_iter().map(|e| e.text).collect(),
        ));
    }
    let german = (0..10_000)
        .map(|i| format!("{} (Ticket {i})", GERMAN[i % GERMAN.len()]))
        .collect();
    sets.push(("german_10k (generated)".into(), german));

    let mut results = Vec::new();
    for (name, texts) in &sets {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (seconds, cpu, report) = timed(|| language_report(&refs, Some(chosen)))?;
        // The languages alone (no model chosen, or not on this machine).
        let (languages_seconds, languages_cpu, _) = timed(|| language_report(&refs, None))?;
        results.push(json!({
            "data": name,
            "rows": texts.len(),
            "seconds": seconds,
            "cpu_seconds": cpu,
            "languages_only_seconds": languages_seconds,
            "languages_only_cpu_seconds": languages_cpu,
            "report": serde_json::to_value(&report)?,
        }));
    }
    let cpu = dialect::device::available_devices()
        .into_iter()
        .find(|d| d.choice == dialect::DeviceChoice::Cpu)
        .and_then(|d| d.name)
        .unwrap_or_else(|| "unknown".into());
    let out: Value = json!({
        "model": model,
        "runs": RUNS,
        "results": results,
        "cpu": cpu,
        "threads": rayon::current_num_threads(),
    });
    println!("{out}");
    Ok(())
}

/// `f` run [`RUNS`] times: the best wall time, the mean CPU time of the process (all
/// threads), and the last result.
fn timed<T>(mut f: impl FnMut() -> dialect::Result<T>) -> Result<(f64, f64, T), Failure> {
    let (mut best, cpu_started) = (f64::INFINITY, cpu_seconds());
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = Some(f()?);
        best = best.min(started.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu_started) / RUNS as f64;
    Ok((best, cpu, last.ok_or("no run")?))
}
