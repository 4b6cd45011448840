//! Training that is cancelled, killed or resumed: the best model saved before the
//! interruption loads and scores exactly as recorded, and a resumed run ends where an
//! uninterrupted one does.

mod common;

use candle_core::Device;
use dialect::review::review_run;
use dialect::runs::RunStore;
use dialect::train::checkpoint;
use dialect::{
    DeviceChoice, Predictor, SequenceClassifier, TextSpec, TrainConfig, TrainEvent, Trainer,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
        .unwrap();
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

/// `dialect train` on `csv` for far more epochs than a test waits for, recording into
/// the store at `runs`.
fn spawn_long_training(csv: &Path, runs: &Path, seed: usize) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_dialect"))
        .env("HF_HUB_OFFLINE", "1")
        .args(["train", csv.to_str().unwrap(), "--model"])
        .arg(common::tiny_model("distilbert"))
        .args(["--runs-dir", runs.to_str().unwrap(), "--epochs", "400"])
        .args(["--max-length", "32", "--device", "cpu", "--lr", "1e-3"])
        .args(["--seed", &seed.to_string(), "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Check every run in `store` with a model: it loads and scores on the run's
/// validation rows exactly as its card records, and its checkpoint (if any) loads.
/// Returns how many runs had a model.
fn saved_models_score_as_recorded(store: &RunStore) -> usize {
    let mut saved = 0;
    for run in store.list().unwrap() {
        let Ok(model) = store.model_dir(&run.id) else {
            continue;
        };
        saved += 1;
        let card = dialect::predict::ModelCard::load(&model).expect("model card");
        let recorded = card.summary.unwrap().best_value.unwrap();
        let review = review_run(store, &run.id, DeviceChoice::Cpu).unwrap();
        assert_eq!(review.metrics.accuracy, recorded, "run {}", run.id);
        let checkpoint_dir = store.root().join(&run.id).join("checkpoint");
        if checkpoint::exists(&checkpoint_dir) {
            checkpoint::load(&checkpoint_dir).unwrap();
            let weights = dialect::model::folder::readable(&checkpoint_dir);
            SequenceClassifier::load(&weights, None, &Device::Cpu, 0).unwrap();
        }
    }
    saved
}

/// Kill `dialect train` at staggered moments: whatever moment it dies, the run's model
/// is absent or whole and scores exactly as its card records, and its checkpoint (if
/// any) loads.
#[test]
fn killing_training_at_any_moment_never_leaves_a_torn_model() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 12);
    let runs = work.path().join("runs");
    let store = RunStore::new(&runs);
    for (i, delay_ms) in [700u64, 1100, 1500, 1900, 2300, 2700, 3100, 3500]
        .iter()
        .enumerate()
    {
        let mut child = spawn_long_training(&csv, &runs, i);
        // The last run lives until it has saved a model, however slow the machine.
        let until_saved = i == 7;
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(*delay_ms)
            || (until_saved
                && store
                    .list()
                    .unwrap()
                    .iter()
                    .all(|r| store.model_dir(&r.id).is_err())
                && started.elapsed() < Duration::from_secs(120))
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(
        saved_models_score_as_recorded(&store) > 0,
        "no run saved a model within two minutes"
    );
}

#[test]
fn cli_resumes_a_cancelled_run_to_the_end() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 6);
    let store = RunStore::new(work.path().join("runs"));
    let spec = dialect::train::DataSpec {
        path: csv,
        text: TextSpec::column("text"),
        label_column: "label".into(),
        label_map: None,
        validation: None,
        max_rows: None,
    };
    let settings = TrainConfig {
        validation_fraction: 0.2,
        ..config(work.path(), 3)
    };
    let loaded = spec.load(0.2, settings.seed, false).unwrap();
    let mut run = store
        .create(&settings, &spec, &loaded.data.validation)
        .unwrap();
    let cancel = AtomicBool::new(false);
    let recorded = run.config().clone();
    Trainer::run(
        &recorded,
        &loaded.data,
        |e| {
            run.log(e).unwrap();
            if matches!(e, TrainEvent::Evaluated { epoch: 1, .. }) {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    )
    .unwrap();
    let id = run.id().to_string();
    drop(run);
    assert_eq!(
        store.get(&id).unwrap().status,
        dialect::runs::RunStatus::Cancelled
    );

    assert_cmd::Command::cargo_bin("dialect")
        .unwrap()
        .env("HF_HUB_OFFLINE", "1")
        .args(["train", "--resume", &id, "--runs-dir"])
        .arg(store.root())
        .assert()
        .success();
    let record = store.get(&id).unwrap();
    assert_eq!(record.status, dialect::runs::RunStatus::Finished);
    assert_eq!(record.summary.unwrap().epochs.len(), 3);

    // A finished run has nothing left to resume.
    assert_cmd::Command::cargo_bin("dialect")
        .unwrap()
        .args(["train", "--resume", &id, "--runs-dir"])
        .arg(store.root())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("nothing to resume"));
}

/// Whether any run folder under `runs` holds a save in progress.
fn save_in_progress(runs: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|run| {
        std::fs::read_dir(run.path()).is_ok_and(|mut inside| {
            inside.any(|f| f.is_ok_and(|f| f.file_name().to_string_lossy().ends_with(".partial")))
        })
    })
}

/// Kill `dialect train` the moment a save's staging folder appears: the model the run
/// had before that save is still there, whole, and scores as its card records.
#[test]
fn killing_training_in_the_middle_of_a_save_keeps_the_previous_model() {
    let work = tempfile::tempdir().unwrap();
    let csv = common::tiny_csv(work.path(), 12);
    let runs = work.path().join("runs");
    let store = RunStore::new(&runs);
    let mut caught = 0;
    for attempt in 0..6 {
        let mut child = spawn_long_training(&csv, &runs, attempt);
        // Skip the first saves, then kill inside the next one seen.
        let started = std::time::Instant::now();
        let mut seen = 0;
        while started.elapsed() < Duration::from_secs(30) {
            if save_in_progress(&runs) {
                seen += 1;
                if seen > attempt {
                    child.kill().unwrap();
                    caught += 1;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    assert!(caught > 0, "never saw a save in progress");
    saved_models_score_as_recorded(&store);
}
