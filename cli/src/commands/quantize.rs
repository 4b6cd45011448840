//! `dialect quantize`: the int8 check on labelled data, kept in the model's card.

use crate::args::QuantizeArgs;
use crate::render::metrics::describe_int8;
use dialect::quantize::check_file;
use dialect::{DeviceChoice, EngineError, PredictionPrecision, Predictor};
use std::process::ExitCode;

/// Compare int8 with f32 on the file and record the result in the model's card.
pub fn run(args: QuantizeArgs) -> Result<ExitCode, EngineError> {
    let on = &args.scored;
    let predictor =
        Predictor::load_with(&on.model, DeviceChoice::Cpu, Some(PredictionPrecision::F32))?;
    let spec = on.text.spec_for(&predictor, &on.data)?;
    let map = on.label.map()?;
    let check = check_file(&on.model, &on.data, &spec, &on.label.column(), map.as_ref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&check)?);
    } else {
        println!("{}", describe_int8(&check));
    }
    Ok(ExitCode::SUCCESS)
}
