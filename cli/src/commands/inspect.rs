//! `dialect inspect`: profile a data file and check it before training.

use crate::args::InspectArgs;
use crate::render::data::{print_inspection, print_profile, print_suspects};
use crate::render::progress::SuspectBar;
use dialect::dataset::corrections::Corrections;
use dialect::dataset::inspect::{inspect, InspectOptions};
use dialect::dataset::language::ChosenModel;
use dialect::dataset::profile::profile_file;
use dialect::dataset::LabelMap;
use dialect::model::resolve::resolve_model;
use dialect::model::tokenize::TextEncoder;
use dialect::settings::SplitPlan;
use dialect::train::suspects::{find_suspects, SuspectReport, SuspectRequest};
use dialect::train::DataSpec;
use dialect::{EngineError, TextSpec, TrainConfig};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

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
    let validation_corrections = args
        .validation_corrections
        .as_deref()
        .map(Corrections::load)
        .transpose()?;
    let folder = args.model.as_deref().map(resolve_model).transpose()?;
    let encoder = match &folder {
        Some(dir) => {
            let max_length = args.max_length.unwrap_or(TrainConfig::default().max_length);
            Some(TextEncoder::load(dir, max_length)?)
        }
        None => None,
    };
    let label_form = args.label_form.form()?;
    if args.suspects && label_form.is_multi_label() {
        return Err(EngineError::Config(
            "--suspects looks for tickets with one wrong class and does not apply to label sets \
             (--label-separator, --label-columns): leave one of them out"
                .into(),
        ));
    }
    let options = InspectOptions {
        text: (!args.text_columns.is_empty()).then(|| {
            let mut spec = TextSpec::columns(args.text_columns.clone());
            if let Some(separator) = &args.text_separator {
                spec.separator = separator.clone();
            }
            spec
        }),
        label_column: args.label_column.clone(),
        label_form,
        label_map: map.as_ref(),
        validation: args.validation.as_deref(),
        encoder: encoder.as_ref(),
        // Without a validation file, check leakage across the split `train` makes by default.
        split: Some(SplitPlan::default()),
        corrections: corrections.as_ref(),
        validation_corrections: validation_corrections.as_ref(),
        model: args.model.as_deref().map(|id| ChosenModel {
            id,
            folder: folder.as_deref(),
        }),
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
    let suspects = match (&inspection.text, &inspection.label_column) {
        (Some(text), Some(label)) if args.suspects => {
            let spec = DataSpec {
                validation_corrections: None,
                drop_overlap: false,
                path: args.data.clone(),
                text: text.clone(),
                label_column: label.clone(),
                label_form: dialect::dataset::LabelForm::Single,
                label_map: map.clone(),
                validation: None,
                split: SplitPlan::default(),
                corrections: corrections.clone(),
            };
            Some(suspects(&args, &spec)?)
        }
        _ if args.suspects => return Err(EngineError::Config(
            "--suspects needs the text and label columns: give --text-column and --label-column"
                .into(),
        )),
        _ => None,
    };
    if args.json {
        let mut out = serde_json::to_value(&inspection)?;
        if let (Some(report), Some(object)) = (&suspects, out.as_object_mut()) {
            object.insert("suspects".into(), serde_json::to_value(report)?);
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_inspection(&inspection, args.model.is_some());
        if let Some(report) = &suspects {
            print_suspects(report, args.top);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The suspect labels of `spec`'s tickets (label map and corrections applied), with a
/// progress bar. Nothing is written, so Ctrl-C simply ends the process.
fn suspects(args: &InspectArgs, spec: &DataSpec) -> Result<SuspectReport, EngineError> {
    let (data, _) = spec.read_corrected()?;
    let mut config = TrainConfig::default();
    if let Some(model) = &args.model {
        config.model = model.clone();
    }
    if let Some(max_length) = args.max_length {
        config.max_length = max_length;
    }
    let request = SuspectRequest {
        folds: args.folds,
        ..SuspectRequest::from_config(&config)
    };
    let bar = SuspectBar::new(args.json);
    let report = find_suspects(
        &request,
        &data.examples,
        &data.labels,
        &mut |p| bar.show(&p),
        &AtomicBool::new(false),
    )?;
    bar.finish();
    report
        .ok_or_else(|| EngineError::Internal("the suspect search stopped without a result".into()))
}
