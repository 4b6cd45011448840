//! `dialect evaluate` (alias `eval`): score a fine-tuned model on a labelled file,
//! with its calibration and coverage there; optionally choose and keep a routing
//! threshold.

use crate::args::EvaluateArgs;
use crate::render::metrics::{describe_point, print_metrics, print_trust};
use dialect::predict::keep_threshold;
use dialect::review::ThresholdChoice;
use dialect::EngineError;
use std::process::ExitCode;

/// Evaluate the model on the file and print its metrics, calibration and coverage.
pub fn run(args: EvaluateArgs) -> Result<ExitCode, EngineError> {
    let on = &args.scored;
    let mut predictor = args.precision.load(&on.model, &args.device)?;
    let choice = ThresholdChoice::given(args.threshold, args.for_accuracy);
    if choice.is_some() {
        predictor.refuse_multi_label("a routing threshold (--threshold, --for-accuracy)")?;
    }
    if args.threshold.is_some() {
        predictor.set_threshold(args.threshold)?;
    }
    eprintln!("Computing in {}", predictor.precision().name());
    let map = on.label.map()?;
    let evaluation = predictor.evaluate_file_as(
        &on.data,
        &on.text.spec_for(&predictor, &on.data)?,
        &on.label.column(),
        &args.label_form.form()?,
        map.as_ref(),
    )?;
    let chosen = choice
        .zip(evaluation.trust.as_ref())
        .map(|(c, trust)| c.on(trust))
        .transpose()?;
    if args.keep {
        let Some(routing) = &chosen else {
            return Err(EngineError::Config(
                "--keep saves a threshold: give --threshold or --for-accuracy".into(),
            ));
        };
        keep_threshold(&on.model, Some(routing))?;
        eprintln!(
            "kept routing threshold {:.3} in the model's card",
            routing.threshold
        );
    }
    if args.json {
        let mut value = serde_json::to_value(&evaluation)?;
        if let (Some(chosen), Some(object)) = (&chosen, value.as_object_mut()) {
            object.insert("chosen".into(), serde_json::to_value(chosen)?);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_metrics(&evaluation.metrics);
        if let Some(trust) = &evaluation.trust {
            print_trust(trust);
        }
        if let Some(point) = chosen.as_ref().and_then(|c| c.chosen_on.as_ref()) {
            if args.for_accuracy.is_some() {
                println!("threshold {:.3} {}", point.threshold, describe_point(point));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
