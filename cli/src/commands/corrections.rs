//! `dialect corrections`: fix single tickets' labels in a corrections file, check it
//! against the data file, or export the corrected data.

use crate::args::{CorrectedData, CorrectionsAction, CorrectionsArgs};
use crate::render::corrections::{print_corrections, print_report};
use dialect::dataset::corrections::{write_corrected, Correction, Corrections};
use dialect::dataset::{read_labeled, LabeledData};
use dialect::EngineError;
use std::process::ExitCode;

/// Carry out the action asked for (default: list).
pub fn run(args: CorrectionsArgs) -> Result<ExitCode, EngineError> {
    let file = &args.file;
    let existing = || -> Result<Corrections, EngineError> {
        if file.exists() {
            Corrections::load(file)
        } else {
            Ok(Corrections::default())
        }
    };
    match args.action.unwrap_or(CorrectionsAction::List) {
        CorrectionsAction::List => {
            let corrections = Corrections::load(file)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&corrections)?);
            } else {
                print_corrections(&corrections);
            }
        }
        CorrectionsAction::Check(data) => {
            let corrections = Corrections::load(file)?;
            let rows = read(&data)?;
            let report = corrections.resolve(&rows.examples).report;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
        CorrectionsAction::Set {
            data,
            line,
            to,
            drop,
        } => {
            let rows = read(&data)?;
            let Some(example) = rows.examples.iter().find(|e| e.line == line) else {
                return Err(EngineError::data(
                    &data.data,
                    format!("no labelled ticket starts on line {line} (after the label map): use a line listed by `dialect runs review` or `dialect inspect`"),
                ));
            };
            let label = if drop { None } else { to };
            let mut corrections = existing()?;
            corrections.set(Correction::of(example, label.clone()));
            corrections.save(file)?;
            match label {
                Some(label) => eprintln!("line {line}: {} → {label}", example.label),
                None => eprintln!("line {line}: dropped (was {})", example.label),
            }
        }
        CorrectionsAction::Undo { line } => {
            let mut corrections = Corrections::load(file)?;
            let hashes: Vec<String> = corrections
                .corrections
                .iter()
                .filter(|c| c.line == line)
                .map(|c| c.hash.clone())
                .collect();
            if hashes.is_empty() {
                return Err(EngineError::data(
                    file,
                    format!(
                        "has no correction on line {line}: `dialect corrections {}` lists them",
                        file.display()
                    ),
                ));
            }
            for hash in hashes {
                corrections.undo(line, &hash);
            }
            corrections.save(file)?;
            eprintln!("line {line}: correction removed");
        }
        CorrectionsAction::Export { data, out } => {
            let corrections = Corrections::load(file)?;
            let export = write_corrected(
                &data.data,
                &data.text.spec(),
                &data.label.column(),
                data.label.map()?.as_ref(),
                &corrections,
                &out,
            )?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&export)?);
            } else {
                print_report(&export.report);
                eprintln!(
                    "wrote {} rows to {} ({} left out)",
                    export.rows,
                    out.display(),
                    export.left_out
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The data file's tickets, after the label map.
fn read(data: &CorrectedData) -> Result<LabeledData, EngineError> {
    read_labeled(
        &data.data,
        &data.text.spec(),
        &data.label.column(),
        data.label.map()?.as_ref(),
    )
}
