//! `dialect train` cancelled, killed or resumed: whatever moment the process dies, the
//! run's model is absent or whole and scores exactly as recorded, and `--resume`
//! finishes a cancelled run. (The engine's side: tests/interruptions.rs.)

mod common;

use candle_core::Device;
use dialect::review::review_run;
use dialect::runs::RunStore;
use dialect::settings::SplitPlan;
use dialect::train::checkpoint;
use dialect::{DeviceChoice, SequenceClassifier, TextSpec, TrainConfig, TrainEvent, Trainer};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
        let card = dialect::model_card::ModelCard::load(&model).expect("model card");
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
        validation_corrections: None,
        drop_overlap: false,
        corrections: None,
        path: csv,
        text: TextSpec::column("text"),
        label_column: "label".into(),
        label_form: dialect::dataset::LabelForm::Single,
        label_map: None,
        validation: None,
        split: SplitPlan {
            validation_fraction: 0.2,
            ..SplitPlan::default()
        },
    };
    let settings = TrainConfig {
        model: common::tiny_model("distilbert").display().to_string(),
        epochs: 3,
        batch_size: 8,
        learning_rate: 1e-3,
        max_length: 32,
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    };
    let loaded = spec.load(false).unwrap();
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

    common::dialect()
        .args(["train", "--resume", &id, "--runs-dir"])
        .arg(store.root())
        .assert()
        .success();
    let record = store.get(&id).unwrap();
    assert_eq!(record.status, dialect::runs::RunStatus::Finished);
    assert_eq!(record.summary.unwrap().epochs.len(), 3);

    // A finished run has nothing left to resume.
    common::dialect()
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
