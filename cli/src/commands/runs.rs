//! `dialect runs`: list, show, delete, export, review or compare recorded runs.

use crate::args::{RunsAction, RunsArgs};
use crate::render::metrics::{describe_finishing, describe_point};
use crate::render::runs::{print_diff, print_review, print_run, print_runs};
use dialect::export::onnx::{export_run_onnx, OnnxOptions};
use dialect::export::trainer_job::export_trainer_job;
use dialect::review::{keep_run_threshold, review_run, ThresholdChoice};
use dialect::run_diff::{diff_runs, diff_runs_on};
use dialect::runs::RunStore;
use dialect::{DeviceChoice, EngineError};
use std::process::ExitCode;

/// Carry out the runs action asked for (default: list).
pub fn run(args: RunsArgs) -> Result<ExitCode, EngineError> {
    let store = RunStore::resolve(args.runs_dir)?;
    match args.action.unwrap_or(RunsAction::List) {
        RunsAction::List => {
            let runs = store.list()?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                print_runs(&runs, store.root());
            }
        }
        RunsAction::Show { id } => {
            let r = store.get(&id)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_run(&r, &store.model_dir(&id));
            }
        }
        RunsAction::Delete { id } => {
            store.delete(&id)?;
            eprintln!("deleted run {id}");
        }
        RunsAction::Export {
            id,
            folder,
            trainer_job: true,
            ..
        } => {
            let job = export_trainer_job(&store, &id, &folder)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&job)?);
            } else {
                println!("{}", job.folder.display());
            }
        }
        RunsAction::Import { folder } => {
            let id = store.import_trainer_output(&folder)?;
            if args.json {
                println!("{}", serde_json::json!({ "id": id }));
            } else {
                // What the import did to the model, as `train` reports it; the id alone
                // on stdout, for scripts.
                for event in store.events(&id)? {
                    if let Some(line) = describe_finishing(&event) {
                        eprintln!("{line}");
                    }
                }
                println!("{id}");
            }
        }
        RunsAction::Export {
            id,
            folder,
            onnx: false,
            ..
        } => {
            let dir = store.export(&id, &folder)?;
            println!("{}", dir.display());
        }
        RunsAction::Export {
            id,
            folder,
            onnx: true,
            int8,
            ..
        } => {
            let export = export_run_onnx(&store, &id, &folder, OnnxOptions { int8 })?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&export)?);
            } else {
                println!("{}", export.folder.display());
            }
        }
        RunsAction::Diff { before, after, on } => {
            let diff = match on {
                Some(file) => diff_runs_on(&store, &before, &after, &file, DeviceChoice::Auto)?,
                None => diff_runs(&store, &before, &after, DeviceChoice::Auto)?,
            };
            if args.json {
                println!("{}", serde_json::to_string_pretty(&diff)?);
            } else {
                print_diff(&diff);
            }
        }
        RunsAction::Threshold {
            id,
            value,
            accuracy,
            clear: _,
        } => {
            let choice = ThresholdChoice::given(value, accuracy);
            let kept = keep_run_threshold(&store, &id, choice, DeviceChoice::Auto)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&kept)?);
            } else {
                match kept {
                    Some(r) => {
                        let point = r
                            .chosen_on
                            .as_ref()
                            .map(|p| format!(": on its validation rows it {}", describe_point(p)))
                            .unwrap_or_default();
                        println!("run {id} routes with threshold {:.3}{point}", r.threshold);
                    }
                    None => println!("run {id} has no routing threshold now"),
                }
            }
        }
        RunsAction::Review { id } => {
            let review = review_run(&store, &id, DeviceChoice::Auto)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&review)?);
            } else {
                print_review(&review);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
