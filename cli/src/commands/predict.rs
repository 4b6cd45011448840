//! `dialect predict`: classify texts, or every row of a file.

use crate::args::PredictArgs;
use crate::render::predictions::print_predictions;
use dialect::EngineError;
use std::process::ExitCode;

/// Predict for `--input` into `--output`, else for the texts given.
pub fn run(args: PredictArgs) -> Result<ExitCode, EngineError> {
    let predictor = args.precision.load(&args.model, &args.device)?;
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
    let predictions = predictor.predict(&args.texts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&predictions)?);
    } else {
        print_predictions(&args.texts, &predictions);
    }
    Ok(ExitCode::SUCCESS)
}
