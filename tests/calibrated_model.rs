//! Temperature scaling: training fits it on the validation split and keeps it in the
//! model's card, and prediction divides the logits by it.

mod common;

use dialect::model_card::ModelCard;
use dialect::{DeviceChoice, Predictor, TrainEvent, Trainer};
use std::sync::atomic::AtomicBool;

#[test]
fn training_records_a_temperature_and_prediction_applies_it() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 10);
    let config = common::tiny_config(work.path());
    let mut reported = None;
    Trainer::run(
        &config,
        &data,
        |e| {
            if let TrainEvent::Calibrated { calibration } = e {
                reported = Some(calibration.clone());
            }
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    let reported = reported.expect("a Calibrated event");
    let card = ModelCard::load(&config.output_dir).unwrap();
    assert_eq!(card.calibration.as_ref(), Some(&reported));
    assert_eq!(reported.rows, data.validation.len());
    assert!((0.05..=20.0).contains(&reported.temperature));
    assert!(reported.nll_after <= reported.nll_before + 1e-9);

    // The same logits at temperature 1 and 2: log-odds halve.
    let text = vec!["the app crashes when i click login".to_string()];
    let log_odds = |temperature: f64| {
        let mut calibration = reported.clone();
        calibration.temperature = temperature;
        ModelCard::record_calibration(&config.output_dir, &calibration).unwrap();
        let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
        let p: Vec<f64> = predictor.predict(&text).unwrap()[0]
            .scores
            .iter()
            .map(|s| s.probability as f64)
            .collect();
        (p[0] / p[1]).ln()
    };
    let (one, two) = (log_odds(1.0), log_odds(2.0));
    assert!((two - one / 2.0).abs() < 1e-4, "{one} at T=1, {two} at T=2");
}
