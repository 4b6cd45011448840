//! `dialect inspect`: profile a data file and check it before training.

use crate::args::InspectArgs;
use crate::render::data::{print_inspection, print_profile};
use dialect::dataset::corrections::Corrections;
use dialect::dataset::inspect::{inspect, InspectOptions};
use dialect::dataset::profile::profile_file;
use dialect::dataset::LabelMap;
use dialect::model::resolve::resolve_model;
use dialect::model::tokenize::TextEncoder;
use dialect::settings::SplitPlan;
use dialect::{EngineError, TextSpec, TrainConfig};
use std::process::ExitCode;

/// Profile the file (`--profile-only`), or run the whole inspection on it.
pub fn run(args: InspectArgs) -> Result<ExitCode, EngineError> {
    if args.profile_only {
        let profile = profile_file(&args.data)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&profile)?);
        } else {
            print_profile(&profile);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let map = args.label_map.as_deref().map(LabelMap::load).transpose()?;
    let corrections = args
        .corrections
        .as_deref()
        .map(Corrections::load)
        .transpose()?;
    let encoder = match &args.model {
        Some(m) => {
            let max_length = args.max_length.unwrap_or(TrainConfig::default().max_length);
            Some(TextEncoder::load(&resolve_model(m)?, max_length)?)
        }
        None => None,
    };
    let options = InspectOptions {
        text: (!args.text_columns.is_empty()).then(|| {
            let mut spec = TextSpec::columns(args.text_columns.clone());
            if let Some(separator) = &args.text_separator {
                spec.separator = separator.clone();
            }
            spec
        }),
        label_column: args.label_column.clone(),
        label_map: map.as_ref(),
        validation: args.validation.as_deref(),
        encoder: encoder.as_ref(),
        // Without a validation file, check leakage across the split `train` makes by default.
        split: Some(SplitPlan::default()),
        corrections: corrections.as_ref(),
    };
    let inspection = inspect(&args.data, &options)?;
    if let Some(path) = &args.write_label_map {
        let counts = inspection.raw_labels.iter().cloned().collect();
        LabelMap::suggested(&counts).save(path)?;
        eprintln!(
            "wrote a label map with the suggested merges to {}",
            path.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print_inspection(&inspection, args.model.is_some());
    }
    Ok(ExitCode::SUCCESS)
}
