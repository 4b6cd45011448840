//! `dialect predict`: classify texts, or every row of a file.

use crate::args::PredictArgs;
use crate::render::predictions::{print_explanation, print_predictions};
use dialect::{EngineError, Predictor};
use std::process::ExitCode;

/// Predict for `--input` into `--output`, else for the texts given.
pub fn run(args: PredictArgs) -> Result<ExitCode, EngineError> {
    let mut predictor = args.precision.load(&args.model, &args.device)?;
    if args.threshold.is_some() {
        predictor.set_threshold(args.threshold)?;
    }
    eprintln!("Computing in {}", predictor.precision().name());
    if let (Some(input), Some(output)) = (&args.input, &args.output) {
        let spec = args.text.spec_for(&predictor, input)?;
        let n = predictor.predict_file(input, &spec, output)?;
        eprintln!("wrote {n} predictions to {}", output.display());
        return Ok(ExitCode::SUCCESS);
    }
    if args.texts.is_empty() {
        return Err(EngineError::Config(
            "give texts to classify, or --input FILE --output FILE".into(),
        ));
    }
    if args.explain {
        return explain(&predictor, &args);
    }
    let predictions = predictor.predict(&args.texts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&predictions)?);
    } else {
        print_predictions(&args.texts, &predictions);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--explain`: each text's prediction, then the words pushing it toward the class
/// (`--explain-class`, else the predicted one) and away from it; with `--json`, each
/// prediction with its whole explanation under `explanation`.
fn explain(predictor: &Predictor, args: &PredictArgs) -> Result<ExitCode, EngineError> {
    let class = match &args.explain_class {
        Some(label) => Some(
            predictor
                .labels()
                .iter()
                .position(|l| l == label)
                .ok_or_else(|| {
                    EngineError::Config(format!(
                        "--explain-class: the model has no class '{label}' (its classes: {})",
                        predictor.labels().join(", ")
                    ))
                })?,
        ),
        None => None,
    };
    let predictions = predictor.predict(&args.texts)?;
    let mut explained = Vec::with_capacity(args.texts.len());
    for (text, prediction) in args.texts.iter().zip(predictions) {
        let explanation = predictor.explain(text)?;
        if args.json {
            let mut value = serde_json::to_value(&prediction)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("explanation".into(), serde_json::to_value(&explanation)?);
            }
            explained.push(value);
        } else {
            print_predictions(
                std::slice::from_ref(text),
                std::slice::from_ref(&prediction),
            );
            print_explanation(
                &explanation,
                class.unwrap_or(explanation.predicted),
                args.top,
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explained)?);
    }
    Ok(ExitCode::SUCCESS)
}
