//! `dialect train DATA --estimate` and `--fit-in MINUTES`: how long the run would take
//! and whether it fits in memory, from a short measurement on this machine (kept beside
//! the run store for the next estimate), and what fits in a given time; nothing is
//! trained or recorded.

use crate::args::TrainArgs;
use dialect::runs::RunStore;
use dialect::setting::Setting;
use dialect::settings::{Method, SplitPlan};
use dialect::train::estimate::{
    estimate, EstimateRequest, FitSuggestion, TrainingEstimate, ESTIMATES_FILE,
};
use dialect::{EngineError, TrainConfig};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Estimate the run `args` describe (and what fits in `--fit-in` minutes), print it and
/// exit.
pub fn run(args: &TrainArgs) -> Result<ExitCode, EngineError> {
    let Some(data) = args.data_spec()? else {
        return Err(EngineError::Config("give the training data file".into()));
    };
    let store = RunStore::resolve(args.runs_dir.clone())?;
    let cache = store.root().with_file_name(ESTIMATES_FILE);
    let request = EstimateRequest {
        config: args.config()?,
        data,
        fit_minutes: args.fit_in,
        remeasure: args.remeasure,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    if !args.json {
        eprintln!("estimating (a few training steps on this machine unless it measured this model before)…");
    }
    let Some(report) = estimate(&request, Some(&cache), &cancel)? else {
        return Ok(ExitCode::from(crate::CANCELLED));
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.estimate || report.fit.is_none() {
        print_estimate(&report.estimate);
    }
    if let Some(fit) = &report.fit {
        print_fit(fit, &request.config, &request.data.split);
    }
    Ok(ExitCode::SUCCESS)
}

/// The estimate: total, where the time goes, memory, and the measurement it rests on.
fn print_estimate(e: &TrainingEstimate) {
    let work = match e.method {
        Method::FineTune => format!(
            "{} epoch{} of {} steps",
            e.epochs,
            if e.epochs == 1 { "" } else { "s" },
            e.steps / e.epochs.max(1)
        ),
        Method::Baseline => format!("the baseline ({} batches encoded)", e.steps),
    };
    println!(
        "Estimate: {} for {work} ({} training rows, batch {}, max length {}; {} validation rows)",
        duration(e.seconds),
        e.train_rows,
        e.batch_size,
        e.max_length,
        e.validation_rows
    );
    let b = &e.breakdown;
    let step = match e.method {
        Method::FineTune => format!("  ({} a step)", duration(e.step_seconds)),
        Method::Baseline => String::new(),
    };
    for (name, seconds, note) in [
        ("reading the data", b.reading, String::new()),
        ("loading the model", b.loading, String::new()),
        ("tokenising", b.tokenising, String::new()),
        ("training", b.training, step),
        ("evaluation", b.evaluation, String::new()),
        ("saving", b.saving, String::new()),
        ("int8 check", b.checks, String::new()),
    ] {
        if seconds > 0.0 {
            println!("  {name:<18} {:>10}{note}", duration(seconds));
        }
    }
    if e.may_stop_early {
        println!("  (early stopping may end it sooner)");
    }
    let m = &e.memory;
    let peak = m
        .peak_bytes
        .map_or_else(|| "unknown".to_string(), |p| format!("about {}", gib(p)));
    let verdict = match m.fits {
        Some(true) => "fits",
        Some(false) => "does NOT fit: lower the batch size or max length",
        None => "fit unknown",
    };
    let available = m.available_bytes.map_or_else(|| "unknown".to_string(), gib);
    println!("Memory: peak {peak}, available {available}: {verdict}");
    let info = &e.measurement;
    let when = if info.reused {
        let age = seconds_since(info.measured_at);
        let ago = if age < 60.0 {
            "less than a minute ago".to_string()
        } else {
            format!("{} ago", duration(age))
        };
        format!("{ago} (kept; --remeasure measures again)")
    } else {
        format!("now, in {}", duration(info.seconds))
    };
    println!(
        "Measured on {} with {} in {}: {when}",
        info.device, info.model, info.precision
    );
    if info.extrapolated {
        println!(
            "  (this run's steps are unlike the measured ones: --remeasure for a closer estimate)"
        );
    }
    if let Some(load) = info.load_per_core.filter(|&l| l > 0.5) {
        println!(
            "  (other work was using the CPU while measuring, load {load:.1} per core: \
             the estimate runs long if it has stopped)"
        );
    }
}

/// What fits in the time asked for, and the options that start it.
fn print_fit(fit: &FitSuggestion, config: &TrainConfig, split: &SplitPlan) {
    let e = &fit.estimate;
    let minutes = format!("{} min", fit.minutes);
    let what = describe(fit);
    if fit.fits {
        println!(
            "Fits in {minutes}: {what}, about {} ({} training rows, {} epoch{}, max length {})",
            duration(e.seconds),
            e.train_rows,
            e.epochs,
            if e.epochs == 1 { "" } else { "s" },
            e.max_length
        );
    } else {
        println!(
            "Nothing fits in {minutes}: the quickest is {what}, about {}",
            duration(e.seconds)
        );
    }
    let options = changed_options(config, split, &fit.config, &fit.split);
    if !options.is_empty() {
        println!("  add to the command: {}", options.join(" "));
    }
}

/// The preset's title, and what was shortened.
fn describe(fit: &FitSuggestion) -> String {
    let shortened: Vec<String> = fit
        .shortened
        .iter()
        .map(|s| match s {
            Setting::MaxRows => {
                format!("at most {} rows", fit.split.max_rows.unwrap_or_default())
            }
            Setting::MaxLength => format!("max length {}", fit.config.max_length),
            other => other.label().to_string(),
        })
        .collect();
    if shortened.is_empty() {
        format!("the {} preset", fit.title)
    } else {
        format!(
            "the {} preset shortened to {}",
            fit.title,
            shortened.join(", ")
        )
    }
}

/// The options that turn `config`/`split` into `to`/`to_split` (appended to a command,
/// later options win).
fn changed_options(
    config: &TrainConfig,
    split: &SplitPlan,
    to: &TrainConfig,
    to_split: &SplitPlan,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut set = |setting: Setting, from: String, value: String| {
        if from != value {
            out.push(format!("{} {value}", setting.flag()));
        }
    };
    set(
        Setting::Epochs,
        config.epochs.to_string(),
        to.epochs.to_string(),
    );
    set(
        Setting::BatchSize,
        config.batch_size.to_string(),
        to.batch_size.to_string(),
    );
    set(
        Setting::LearningRate,
        config.learning_rate.to_string(),
        to.learning_rate.to_string(),
    );
    set(
        Setting::MaxLength,
        config.max_length.to_string(),
        to.max_length.to_string(),
    );
    set(
        Setting::ValidationFraction,
        split.validation_fraction.to_string(),
        to_split.validation_fraction.to_string(),
    );
    set(
        Setting::SplitSeed,
        split.seed.to_string(),
        to_split.seed.to_string(),
    );
    let optional = |v: Option<usize>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut toggles = Vec::new();
    for (setting, from, value) in [
        (
            Setting::EarlyStoppingPatience,
            config.early_stopping_patience,
            to.early_stopping_patience,
        ),
        (Setting::MaxRows, split.max_rows, to_split.max_rows),
    ] {
        match value {
            Some(_) => set(setting, optional(from), optional(value)),
            None if from.is_some() => toggles.push(format!("(without {})", setting.flag())),
            None => {}
        }
    }
    match (config.method, to.method) {
        (Method::FineTune, Method::Baseline) => out.push(Setting::Method.flag().into()),
        (Method::Baseline, Method::FineTune) => {
            toggles.push(format!("(without {})", Setting::Method.flag()))
        }
        _ => {}
    }
    out.extend(toggles);
    out
}

/// Seconds since `unix` (0 when the clock is behind it).
fn seconds_since(unix: u64) -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    now.saturating_sub(unix) as f64
}

/// `seconds` as people read a duration: "0.4 s", "42 s", "3 min 40 s", "1 h 05 min".
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        let whole = s.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// Bytes in GiB (MiB below one).
fn gib(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib < 1024.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(220.0), "3 min 40 s");
        assert_eq!(duration(3900.0), "1 h 05 min");
        assert_eq!(gib(300 << 20), "300 MiB");
        assert_eq!(gib(3 << 29), "1.5 GiB");
    }

    #[test]
    fn the_options_to_add_are_those_that_change() {
        let (config, split) = (TrainConfig::default(), SplitPlan::default());
        let light = TrainConfig {
            epochs: 1,
            max_length: 64,
            learning_rate: 5e-5,
            ..TrainConfig::default()
        };
        let capped = SplitPlan {
            max_rows: Some(1200),
            ..split
        };
        assert_eq!(
            changed_options(&config, &split, &light, &capped),
            [
                "--epochs 1",
                "--lr 0.00005",
                "--max-length 64",
                "--max-rows 1200"
            ]
        );
        let baseline = TrainConfig {
            method: Method::Baseline,
            ..config.clone()
        };
        assert_eq!(
            changed_options(&config, &capped, &baseline, &split),
            ["--baseline", "(without --max-rows)"]
        );
    }
}
