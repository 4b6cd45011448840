//! Routing: a trained model's coverage curve on labelled rows, a threshold kept in its
//! card, and predictions (one by one and in files) routed to a person under it.

mod common;

use dialect::predict::keep_threshold;
use dialect::review::ThresholdChoice;
use dialect::routing::{Route, RoutingThreshold};
use dialect::{DeviceChoice, Predictor, TextSpec, Trainer};
use std::sync::atomic::AtomicBool;

#[test]
fn a_kept_threshold_routes_the_unsure_tickets_to_a_person() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 10);
    let config = common::tiny_config(work.path());
    Trainer::run(&config, &data, |_| {}, &AtomicBool::new(false)).unwrap();
    let model = &config.output_dir;
    let val_csv = work.path().join("val.csv");
    common::write_examples_csv(&val_csv, &data.validation);
    let text = TextSpec::column("text");

    // Without a threshold nothing is routed; the evaluation carries the model's
    // temperature and a curve whose every-ticket point is the plain accuracy.
    let predictor = Predictor::load(model, DeviceChoice::Cpu).unwrap();
    assert_eq!(predictor.threshold(), None);
    let evaluation = predictor
        .evaluate_file(&val_csv, &text, "label", None)
        .unwrap();
    let trust = evaluation
        .trust
        .as_ref()
        .expect("a single-label model has trust");
    assert_eq!(trust.calibration.temperature, predictor.temperature());
    assert_eq!(trust.coverage.overall.rows, data.validation.len());
    let all = trust.coverage.overall.at(0.0);
    assert_eq!(all.handled, data.validation.len());
    assert!((all.accuracy - evaluation.metrics.accuracy).abs() < 1e-9);
    assert!(trust.operating.is_none());

    // A threshold between the confidences: some tickets go each way.
    let texts: Vec<String> = data.validation.iter().map(|e| e.text.clone()).collect();
    let plain = predictor.predict(&texts).unwrap();
    assert!(plain.iter().all(|p| p.route.is_none()));
    let mut confidences: Vec<f32> = plain.iter().map(|p| p.confidence).collect();
    confidences.sort_by(f32::total_cmp);
    // Halfway between two neighbouring confidences, so no ticket sits on it.
    let mid = confidences.len() / 2;
    assert!(
        confidences[mid - 1] < confidences[mid],
        "the tiny model gave tickets the same confidence: {confidences:?}"
    );
    let threshold = f64::from(confidences[mid - 1] + confidences[mid]) / 2.0;
    let chosen = ThresholdChoice::At(threshold).on(trust).unwrap();
    keep_threshold(model, Some(&chosen)).unwrap();

    let routed = Predictor::load(model, DeviceChoice::Cpu).unwrap();
    assert_eq!(routed.threshold(), Some(threshold));
    let predictions = routed.predict(&texts).unwrap();
    for p in &predictions {
        let expected = if f64::from(p.confidence) > threshold {
            Route::Auto
        } else {
            Route::Person
        };
        assert_eq!(p.route, Some(expected), "{p:?} at {threshold}");
    }
    let to_person = predictions
        .iter()
        .filter(|p| p.route == Some(Route::Person))
        .count();
    assert!(to_person > 0 && to_person < predictions.len());
    let point = routed
        .evaluate_file(&val_csv, &text, "label", None)
        .unwrap()
        .trust
        .and_then(|t| t.operating)
        .unwrap();
    assert_eq!(point.handled, predictions.len() - to_person);
    assert_eq!(Some(point), chosen.chosen_on);

    // Files get a route column in that order.
    let out = work.path().join("out.csv");
    routed.predict_file(&val_csv, &text, &out).unwrap();
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "route").unwrap();
    let routes: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[column].to_string())
        .collect();
    let expected: Vec<&str> = predictions
        .iter()
        .map(|p| p.route.unwrap().name())
        .collect();
    assert_eq!(routes, expected);

    // Cleared: no routes, no column; a bad threshold is refused.
    keep_threshold(model, None).unwrap();
    let cleared = Predictor::load(model, DeviceChoice::Cpu).unwrap();
    assert_eq!(cleared.threshold(), None);
    cleared.predict_file(&val_csv, &text, &out).unwrap();
    let headers = csv::Reader::from_path(&out)
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    assert!(!headers.iter().any(|h| h == "route"));
    let bad = RoutingThreshold {
        threshold: 1.5,
        chosen_on: None,
    };
    assert!(keep_threshold(model, Some(&bad)).is_err());
    let mut p = cleared;
    assert!(p.set_threshold(Some(0.0)).is_err());
}
