//! A real fine-tune: sentence-transformers/all-MiniLM-L6-v2 (from the Hugging Face
//! cache, seeded by scripts/seed-model-cache.sh) on a few hundred real GitHub issues
//! from Ticket Tagger, scored on held-out issues it never saw.

mod common;

use dialect::dataset::{read_labeled, stratified_split, Example};
use dialect::train::TrainData;
use dialect::{DeviceChoice, Predictor, TextSpec, TrainConfig, Trainer};
use std::sync::atomic::AtomicBool;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// First `train` rows of each class for training, the next `test` for testing.
fn per_class(rows: &[Example], train: usize, test: usize) -> (Vec<Example>, Vec<Example>) {
    let mut labels: Vec<&str> = rows.iter().map(|e| e.label.as_str()).collect();
    labels.sort();
    labels.dedup();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for label in labels {
        let mine: Vec<&Example> = rows.iter().filter(|e| e.label == label).collect();
        a.extend(mine[..train].iter().map(|e| (*e).clone()));
        b.extend(mine[train..train + test].iter().map(|e| (*e).clone()));
    }
    (a, b)
}

#[test]
fn minilm_learns_ticket_tagger_well_above_chance() {
    let path = common::shared_data("tickettagger_issues_train.csv");
    let data = read_labeled(&path, &TextSpec::column("text"), "label", None).expect("shared data");
    assert_eq!(data.labels, ["bug", "enhancement", "question"]);
    let (pool, test) = per_class(&data.examples, 150, 50);
    let (train, validation) = stratified_split(&pool, 0.1, 42).unwrap();
    let work = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        model: MODEL.into(),
        output_dir: work.path().join("model"),
        learning_rate: 1e-4,
        max_length: 64,
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let summary = Trainer::run(
        &config,
        &TrainData {
            train: train.clone(),
            validation,
            labels: data.labels.clone(),
            text: Some(TextSpec::column("text")),
        },
        |_| {},
        &AtomicBool::new(false),
    )
    .expect("training (is the model cache seeded? run scripts/seed-model-cache.sh)");
    for e in &summary.epochs {
        eprintln!(
            "epoch {}: {:.1}s, {:.1} samples/s, train loss {:.4}, val accuracy {:.4}",
            e.epoch, e.seconds, e.samples_per_second, e.train_loss, e.metrics.accuracy
        );
    }
    assert_eq!(summary.epochs.len(), 3);
    assert!(
        summary.epochs[2].train_loss < summary.epochs[0].train_loss,
        "loss must fall"
    );

    let test_csv = work.path().join("test.csv");
    common::write_examples_csv(&test_csv, &test);
    let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
    let metrics = predictor
        .evaluate_file(&test_csv, &TextSpec::column("text"), "label", None)
        .unwrap()
        .metrics;
    eprintln!(
        "held-out: {} rows, accuracy {:.4}, macro-F1 {:.4} ({} training rows, {:.0}s)",
        metrics.count,
        metrics.accuracy,
        metrics.macro_f1,
        train.len(),
        summary.seconds
    );
    // Chance is 1/3 on these balanced classes; measured 0.67-0.70 across dropout streams
    // (0.59 at lr 5e-5).
    assert!(
        metrics.accuracy >= 0.6,
        "held-out accuracy {:.4}",
        metrics.accuracy
    );
}
