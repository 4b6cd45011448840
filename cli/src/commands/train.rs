//! `dialect train`: start (or resume) a recorded run through the engine, with progress
//! and Ctrl-C.

use crate::args::TrainArgs;
use crate::render::data::overlap_lines;
use crate::render::progress::Progress;
use crate::render::{flags, severity_name};
use dialect::dataset::corrections::Corrections;
use dialect::dataset::quality::Severity;
use dialect::model::folder::copy_model;
use dialect::runs::{PendingRun, RunRequest, RunStore};
use dialect::{EngineError, TrainEvent};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Check the data, record a new run and train it; or resume `--resume RUN`; or only
/// estimate it (`--estimate`, `--fit-in`).
pub fn run(args: TrainArgs) -> Result<ExitCode, EngineError> {
    if args.estimate || args.fit_in.is_some() {
        return super::estimate::run(&args);
    }
    let store = RunStore::resolve(args.runs_dir.clone())?;
    let run = match (&args.resume, &args.retrain, args.data_spec()?) {
        (Some(id), _, _) => store.resume_run(id)?,
        (None, Some(parent), _) => {
            let corrections = args
                .corrections
                .as_deref()
                .map(Corrections::load)
                .transpose()?;
            let mut request = store.retrain_request(parent, corrections)?;
            request.force = args.force;
            if !args.scrub.is_empty() {
                request.data.text.scrub = args.scrub_kinds()?;
            }
            store.new_run(request)?
        }
        (None, None, Some(data)) => store.new_run(RunRequest {
            config: args.config()?,
            data,
            force: args.force,
            parent: None,
        })?,
        (None, None, None) => {
            return Err(EngineError::Config("give the training data file".into()));
        }
    };
    if !args.json {
        show_data_notes(&run);
    }
    train(run, &args)
}

/// Reader warnings and the data check's warnings and blocking findings.
fn show_data_notes(run: &PendingRun) {
    for w in run.warnings.items() {
        eprintln!("warning: {w}");
    }
    let findings = run.report.iter().flat_map(|r| &r.findings);
    for f in findings.filter(|f| f.severity > Severity::Info) {
        eprintln!(
            "{}: {} → {}{}",
            severity_name(f.severity),
            f.message,
            f.fix,
            flags(f.setting.as_slice())
        );
    }
    for line in run
        .report
        .iter()
        .flat_map(|r| &r.overlap)
        .flat_map(overlap_lines)
    {
        eprintln!("  {line}");
    }
}

/// Train `run` on the engine's thread, showing progress (or JSON events), stopping
/// cleanly on Ctrl-C, and copying the best model to `--out`.
fn train(run: PendingRun, args: &TrainArgs) -> Result<ExitCode, EngineError> {
    let control = run.control();
    let interrupted = AtomicBool::new(false);
    let _ = ctrlc::set_handler(move || {
        if interrupted.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::CANCELLED.into());
        }
        control.cancel();
        eprintln!("\ncancelling after this step (Ctrl-C again to quit now)…");
    });
    let output_dir = run.config().output_dir.clone();
    if !args.json {
        let verb = if args.resume.is_some() {
            "resuming run"
        } else {
            "run"
        };
        eprintln!("{verb} {} (model in {})", run.id(), output_dir.display());
        if let Some(why) = run.config().device.cuda_fallback_reason() {
            eprintln!("GPU not used, training on the CPU: {why}");
        }
    }
    let mut view = (!args.json).then(Progress::default);
    let on_event = move |event: &TrainEvent| match &mut view {
        Some(v) => v.show(event),
        None => println!("{}", serde_json::to_string(event).unwrap_or_default()),
    };
    let handle = run.start(on_event)?;
    let outcome = handle.wait();
    if let Some(e) = outcome.record_error {
        eprintln!("warning: could not record the run: {e}");
    }
    let summary = outcome.result?;
    if let (Some(out), Some(_)) = (&args.out, summary.best_epoch) {
        copy_model(&output_dir, out)?;
        if !args.json {
            eprintln!("Model copied to {}", out.display());
        }
    }
    if summary.cancelled {
        return Ok(ExitCode::from(crate::CANCELLED));
    }
    Ok(ExitCode::SUCCESS)
}
