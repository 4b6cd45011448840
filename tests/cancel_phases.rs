//! Cancel is honoured in every long phase of a run, not only between training steps:
//! a run cancelled while its rows are tokenised ends at once as cancelled.

mod common;

use dialect::{DeviceChoice, Method, TrainConfig, TrainEvent, Trainer};
use std::sync::atomic::AtomicBool;

fn config(method: Method, out: &std::path::Path) -> TrainConfig {
    TrainConfig {
        model: common::tiny_model("distilbert").display().to_string(),
        output_dir: out.join("model"),
        epochs: 2,
        batch_size: 8,
        device: DeviceChoice::Cpu,
        method,
        ..TrainConfig::default()
    }
}

#[test]
fn a_run_cancelled_while_tokenising_ends_cancelled_before_it_starts() {
    for method in [Method::FineTune, Method::Baseline] {
        let dir = tempfile::tempdir().unwrap();
        let data = common::tiny_train_data(dir.path(), 8);
        let config = config(method, dir.path());
        let mut events = Vec::new();
        // Set before the first rows are tokenised.
        let cancel = AtomicBool::new(true);
        let summary = Trainer::run(&config, &data, |e| events.push(e.clone()), &cancel).unwrap();
        assert!(summary.cancelled, "{method:?}");
        assert_eq!(summary.steps, 0, "{method:?}");
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                TrainEvent::Started { .. } => "started",
                TrainEvent::Cancelled { .. } => "cancelled",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["cancelled"], "{method:?}: {events:?}");
        assert!(!config.output_dir.join("config.json").exists());
    }
}
