//! Train a tiny model end to end, save it, load it back, and get identical predictions.

mod common;

use candle_core::Device;
use dialect::model::layers::Mode;
use dialect::model::params::HeadPolicy;
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;
use dialect::{DeviceChoice, Predictor, TextSpec, TrainConfig, TrainEvent, Trainer};
use std::sync::atomic::AtomicBool;

#[test]
fn save_then_load_gives_identical_logits() {
    let dir = common::tiny_model("distilbert");
    let model = SequenceClassifier::load_with_head(
        &dir,
        Some(vec!["x".into(), "y".into()]),
        HeadPolicy::InitIfMismatched,
        &Device::Cpu,
        3,
    )
    .unwrap();
    let encoder = TextEncoder::load(&dir, 32).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save(out.path()).unwrap();
    encoder.save(out.path()).unwrap();

    let texts = vec![
        "please add dark mode".to_string(),
        "the app crashes".to_string(),
    ];
    let encoded = encoder.encode(&texts).unwrap();
    let batch = encoder
        .collate(&encoded.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let before = model
        .forward(&batch, &Mode::Eval)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();

    let reloaded = SequenceClassifier::load(out.path(), None, &Device::Cpu, 99).unwrap();
    assert!(reloaded.newly_initialised().is_empty());
    assert_eq!(reloaded.labels(), ["x", "y"]);
    let after = reloaded
        .forward(&batch, &Mode::Eval)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    assert_eq!(before, after);

    // The saved file carries the metadata older transformers versions require.
    let bytes = std::fs::read(out.path().join("model.safetensors")).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(
        meta.metadata()
            .as_ref()
            .unwrap()
            .get("format")
            .map(String::as_str),
        Some("pt")
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        config["architectures"][0],
        "DistilBertForSequenceClassification"
    );
    assert_eq!(config["label2id"]["y"], 1);
    assert_eq!(config["problem_type"], "single_label_classification");
}

#[test]
fn trained_model_reloads_with_the_metrics_it_reported() {
    for arch in [
        "distilbert",
        "bert",
        "roberta",
        "xlm_roberta",
        "modernbert",
        "deberta_v2",
    ] {
        let work = tempfile::tempdir().unwrap();
        let data = common::tiny_train_data(work.path(), 20);
        let config = TrainConfig {
            model: common::tiny_model(arch).display().to_string(),
            output_dir: work.path().join("model"),
            epochs: 10,
            batch_size: 8,
            learning_rate: 1e-3,
            max_length: 32,
            device: DeviceChoice::Cpu,
            ..TrainConfig::default()
        };
        let (summary, events) = common::train_recording(&config, &data);
        assert!(
            matches!(
                events.first(),
                Some(TrainEvent::Started {
                    total_steps: 60,
                    ..
                })
            ),
            "{:?}",
            events.first()
        );
        assert!(matches!(events.last(), Some(TrainEvent::Finished { .. })));
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, TrainEvent::Step { .. }))
                .count(),
            60
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, TrainEvent::Evaluated { .. }))
                .count(),
            10
        );
        let best_epoch = summary.best_epoch.unwrap();
        let best = &summary.epochs[best_epoch - 1].metrics;
        assert!(
            best.accuracy > 0.6,
            "{arch}: tiny model should learn the tiny task: {best:?}"
        );

        let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
        let val_csv = work.path().join("val.csv");
        common::write_examples_csv(&val_csv, &data.validation);
        let reloaded = predictor
            .evaluate_file(&val_csv, &TextSpec::column("text"), "label", None)
            .unwrap()
            .metrics;
        assert_eq!(
            &reloaded, best,
            "{arch}: reloaded model must score exactly as the saved epoch did"
        );
    }
}

#[test]
fn cancel_stops_before_the_first_step_and_keeps_nothing_half_written() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 10);
    let config = TrainConfig {
        model: common::tiny_model("bert").display().to_string(),
        output_dir: work.path().join("model"),
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let summary = Trainer::run(&config, &data, |_| {}, &AtomicBool::new(true)).unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.steps, 0);
    assert!(!config.output_dir.exists());
}

#[test]
fn divergence_stops_with_a_clear_error_and_a_failed_event() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 10);
    let config = TrainConfig {
        model: common::tiny_model("distilbert").display().to_string(),
        output_dir: work.path().join("model"),
        learning_rate: 1e30,
        batch_size: 4,
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let mut failed = None;
    let err = Trainer::run(
        &config,
        &data,
        |e| {
            if let TrainEvent::Failed { message } = e {
                failed = Some(message.clone());
            }
        },
        &AtomicBool::new(false),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("diverged") && msg.contains("lower learning rate"),
        "{msg}"
    );
    assert_eq!(failed.as_deref(), Some(msg.as_str()));
}

#[test]
fn early_stopping_ends_the_run_when_the_metric_stops_improving() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 10);
    let config = TrainConfig {
        model: common::tiny_model("bert").display().to_string(),
        output_dir: work.path().join("model"),
        // Too small to change any prediction: macro-F1 never improves after epoch 1.
        learning_rate: 1e-12,
        epochs: 10,
        best_metric: dialect::BestMetric::MacroF1,
        early_stopping_patience: Some(2),
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let summary = Trainer::run(&config, &data, |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(summary.stopped_early);
    assert_eq!(summary.epochs.len(), 3);
    assert_eq!(summary.best_epoch, Some(1));
    assert_eq!(summary.best_metric, "macro-F1");
    assert_eq!(summary.best_value, Some(summary.epochs[0].metrics.macro_f1));
    assert!(config.output_dir.join("model.safetensors").is_file());
}

#[test]
fn baseline_fits_a_mean_pooling_head_that_reloads_and_predicts() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 30);
    for arch in [
        "bert",
        "distilbert",
        "roberta",
        "xlm_roberta",
        "modernbert",
        "deberta_v2",
    ] {
        let out = work.path().join(format!("baseline-{arch}"));
        let config = TrainConfig {
            model: common::tiny_model(arch).display().to_string(),
            output_dir: out.clone(),
            method: dialect::Method::Baseline,
            max_length: 32,
            device: DeviceChoice::Cpu,
            ..TrainConfig::default()
        };
        let (summary, events) = common::train_recording(&config, &data);
        // Progress counts every text once, then one evaluation of the saved model.
        let total = data.train.len() + data.validation.len();
        assert!(matches!(
            events.iter().rev().find(|e| matches!(e, TrainEvent::Encoding { .. })),
            Some(TrainEvent::Encoding { done, total: t }) if *done == total && *t == total
        ));
        assert!(!events.iter().any(|e| matches!(e, TrainEvent::Step { .. })));
        assert!(matches!(events.last(), Some(TrainEvent::Finished { .. })));
        assert_eq!(summary.epochs.len(), 1);
        // The tiny task's keywords are separable: a linear head learns them.
        let accuracy = summary.epochs[0].metrics.accuracy;
        assert!(accuracy >= 0.8, "{arch}: {accuracy}");

        let config_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config_json["dialect_head"], "mean_pooling");
        let reloaded = SequenceClassifier::load(&out, None, &Device::Cpu, 5).unwrap();
        assert!(reloaded.is_mean_pooling());
        assert!(reloaded.newly_initialised().is_empty(), "{arch}");
        let predictor = Predictor::load(&out, DeviceChoice::Cpu).unwrap();
        let texts: Vec<String> = data.validation.iter().map(|e| e.text.clone()).collect();
        let predicted = predictor.predict(&texts).unwrap();
        let correct = predicted
            .iter()
            .zip(&data.validation)
            .filter(|(p, e)| p.label == e.label)
            .count();
        assert_eq!(correct as f64 / texts.len() as f64, accuracy, "{arch}");
    }
}
