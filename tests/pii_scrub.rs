//! Scrubbing personal data: a model trained with a scrubbing text spec records it, and
//! every prediction with it replaces the same kinds before the model sees the text.

mod common;

use dialect::pii::PiiKind;
use dialect::{DeviceChoice, Predictor, TextSpec, Trainer};
use std::sync::atomic::AtomicBool;

#[test]
fn a_scrubbing_model_never_sees_the_values_and_predicts_on_placeholders() {
    let work = tempfile::tempdir().unwrap();
    let mut data = common::tiny_train_data(work.path(), 10);
    let mut spec = TextSpec::column("text");
    spec.scrub = vec![PiiKind::Email, PiiKind::Phone];
    data.text = Some(spec);
    let config = common::tiny_config(work.path());
    Trainer::run(&config, &data, |_| {}, &AtomicBool::new(false)).unwrap();
    let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
    assert_eq!(
        predictor.text_spec().unwrap().scrub,
        [PiiKind::Email, PiiKind::Phone]
    );
    let texts = |value: &str| vec![format!("crash when saving, write to {value} please")];
    let scores = |text: Vec<String>| {
        predictor.predict(&text).unwrap()[0]
            .scores
            .iter()
            .map(|s| s.probability)
            .collect::<Vec<f32>>()
    };
    // Two addresses (and the placeholder itself) are one input to the model.
    let placeholder = scores(texts("[EMAIL]"));
    assert_eq!(scores(texts("jane.doe@example.com")), placeholder);
    assert_eq!(scores(texts("ops@example.org")), placeholder);
    assert_eq!(scores(texts("+44 20 7946 0958")), scores(texts("[PHONE]")));
    // Kinds it was not asked to scrub reach the model as they are.
    let card = scores(texts("4111 1111 1111 1111"));
    assert_ne!(card, scores(texts("[CARD]")));
}
