//! `dialect evaluate` (alias `eval`): score a fine-tuned model on a labelled file.

use crate::args::EvaluateArgs;
use crate::render::metrics::print_metrics;
use dialect::EngineError;
use std::process::ExitCode;

/// Evaluate the model on the file and print its metrics.
pub fn run(args: EvaluateArgs) -> Result<ExitCode, EngineError> {
    let on = &args.scored;
    let predictor = args.precision.load(&on.model, &args.device)?;
    eprintln!("Computing in {}", predictor.precision().name());
    let map = on.label.map()?;
    let metrics = predictor.evaluate_file(
        &on.data,
        &on.text.spec_for(&predictor, &on.data)?,
        &on.label.column(),
        map.as_ref(),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
    } else {
        print_metrics(&metrics);
    }
    Ok(ExitCode::SUCCESS)
}
