//! Training that is cancelled or resumed: the best model saved before the
//! interruption loads and scores exactly as recorded, and a resumed run ends where an
//! uninterrupted one does. (The CLI killed or resumed: cli/tests/interruptions.rs.)

mod common;

use dialect::train::checkpoint;
use dialect::{DeviceChoice, Predictor, TextSpec, TrainConfig, TrainEvent, Trainer};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

fn config(work: &Path, epochs: usize) -> TrainConfig {
    TrainConfig {
        model: common::tiny_model("distilbert").display().to_string(),
        output_dir: work.join("model"),
        checkpoint_dir: Some(work.join("checkpoint")),
        epochs,
        batch_size: 8,
        learning_rate: 1e-3,
        max_length: 32,
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    }
}

/// Train, setting the cancel flag as soon as epoch `cancel_after` has been evaluated.
fn train_cancelling_after(
    config: &TrainConfig,
    data: &dialect::TrainData,
    cancel_after: usize,
) -> dialect::RunSummary {
    let cancel = AtomicBool::new(false);
    Trainer::run(
        config,
        data,
        |e| {
            if matches!(e, TrainEvent::Evaluated { epoch, .. } if *epoch == cancel_after) {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    )
    .unwrap()
}

/// What each epoch measured, without its timings.
fn trajectory(summary: &dialect::RunSummary) -> Vec<(f64, f64, dialect::Metrics)> {
    summary
        .epochs
        .iter()
        .map(|e| (e.train_loss, e.eval_loss, e.metrics.clone()))
        .collect()
}

#[test]
fn cancelling_after_an_epoch_keeps_a_model_that_scores_as_recorded() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 12);
    let config = config(work.path(), 4);
    let summary = train_cancelling_after(&config, &data, 2);
    assert!(summary.cancelled);
    assert_eq!(summary.epochs.len(), 2);
    let best = summary.best_epoch.unwrap();

    let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
    let val_csv = work.path().join("val.csv");
    common::write_examples_csv(&val_csv, &data.validation);
    let scored = predictor
        .evaluate_file(&val_csv, &TextSpec::column("text"), "label", None)
        .unwrap()
        .metrics;
    assert_eq!(scored, summary.epochs[best - 1].metrics);
    // The checkpoint of epoch 2 stays for a resume.
    assert!(checkpoint::exists(
        config.checkpoint_dir.as_deref().unwrap()
    ));
}

#[test]
fn a_resumed_run_ends_exactly_where_an_uninterrupted_one_does() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 12);
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    let whole = config(&a, 4);
    let straight = Trainer::run(&whole, &data, |_| {}, &AtomicBool::new(false)).unwrap();
    // Finished: nothing left to resume.
    assert!(!whole.checkpoint_dir.as_deref().unwrap().exists());

    let split = config(&b, 4);
    let first = train_cancelling_after(&split, &data, 1);
    assert!(first.cancelled);
    let mut events = Vec::new();
    let resumed = Trainer::resume(
        &split,
        &data,
        |e| events.push(e.clone()),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(!resumed.cancelled);
    // Only epochs 2-4 ran again.
    let evaluated: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Evaluated { epoch, .. } => Some(*epoch),
            _ => None,
        })
        .collect();
    assert_eq!(evaluated, [2, 3, 4]);
    assert_eq!(resumed.steps, straight.steps);
    assert_eq!(trajectory(&resumed), trajectory(&straight));
    assert_eq!(resumed.best_epoch, straight.best_epoch);
    assert_eq!(
        std::fs::read(split.output_dir.join("model.safetensors")).unwrap(),
        std::fs::read(whole.output_dir.join("model.safetensors")).unwrap(),
        "the best model's weights differ"
    );
}

#[test]
fn resuming_a_run_without_a_checkpoint_says_so() {
    let work = tempfile::tempdir().unwrap();
    let data = common::tiny_train_data(work.path(), 4);
    let err = Trainer::resume(
        &config(work.path(), 2),
        &data,
        |_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no checkpoint"), "{err}");
}
