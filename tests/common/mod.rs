//! Shared helpers for the engine integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root, whether these helpers are compiled into the engine's tests, the
/// CLI's (`cli/`) or the app's (`src-tauri/`).
pub fn repo_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if crate_dir.join("src-tauri").is_dir() {
        crate_dir.to_path_buf()
    } else {
        crate_dir.join("..")
    }
}

/// Folder of the tiny golden model of `arch` ("distilbert", "bert", "bert_legacy",
/// "roberta", "xlm_roberta", "deberta_v2" or "modernbert").
pub fn tiny_model(arch: &str) -> PathBuf {
    repo_root()
        .join("tests/fixtures/golden")
        .join(arch)
        .join("model")
}

/// The shared benchmark data folder (`../shared/data` next to the repository).
pub fn shared_data(file: &str) -> PathBuf {
    repo_root().join("../shared/data").join(file)
}

/// Write a small, learnable three-class ticket CSV (words from the tiny vocabulary)
/// with `per_class` rows per class.
pub fn write_tiny_csv(path: &Path, per_class: usize) {
    let bug = [
        "the app crashes when i click login",
        "error after update, page is blank",
        "sync crashes every time",
        "the button is not working",
        "blank screen on open",
    ];
    let feature = [
        "please add dark mode",
        "would like an export option",
        "new request: add sync for phone",
        "please add a data export",
        "would like dark mode settings",
    ];
    let question = [
        "how do i reset my password",
        "where can i change my email",
        "how do i get support",
        "can you help with my account",
        "how do i open a file",
    ];
    let mut out = String::from("text,label\n");
    for i in 0..per_class {
        out += &format!("\"{}\",bug\n", bug[i % bug.len()]);
        out += &format!("\"{}\",feature_request\n", feature[i % feature.len()]);
        out += &format!("\"{}\",general_inquiry\n", question[i % question.len()]);
    }
    std::fs::write(path, out).unwrap();
}

/// The tiny task written to `dir/tickets.csv`; returns the path.
pub fn tiny_csv(dir: &Path, per_class: usize) -> PathBuf {
    let csv = dir.join("tickets.csv");
    write_tiny_csv(&csv, per_class);
    csv
}

/// Write `examples` as a `text,label` CSV.
pub fn write_examples_csv(path: &Path, examples: &[dialect::Example]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["text", "label"]).unwrap();
    for e in examples {
        w.write_record([&e.text, &e.label]).unwrap();
    }
    w.flush().unwrap();
}

/// The tiny three-class task (`per_class` rows each) split 80/20 for training.
pub fn tiny_train_data(dir: &Path, per_class: usize) -> dialect::train::TrainData {
    let csv = tiny_csv(dir, per_class);
    let data =
        dialect::dataset::read_labeled(&csv, &dialect::TextSpec::column("text"), "label", None)
            .unwrap();
    let (train, validation) = dialect::dataset::stratified_split(&data.examples, 0.2, 1).unwrap();
    dialect::train::TrainData {
        train,
        validation,
        labels: data.labels,
        text: Some(dialect::TextSpec::column("text")),
    }
}

/// One epoch of the tiny BERT on the CPU at max length 32, saving into `dir/model`.
pub fn tiny_config(dir: &Path) -> dialect::TrainConfig {
    dialect::TrainConfig {
        model: tiny_model("bert").display().to_string(),
        output_dir: dir.join("model"),
        epochs: 1,
        max_length: 32,
        device: dialect::DeviceChoice::Cpu,
        ..dialect::TrainConfig::default()
    }
}

/// The data spec of a `write_multi_label_csv` file: text from `text`, label sets from
/// `labels` read as `form`, a quarter kept for validation.
pub fn multi_label_spec(csv: &Path, form: dialect::dataset::LabelForm) -> dialect::train::DataSpec {
    dialect::train::DataSpec {
        path: csv.to_path_buf(),
        text: dialect::TextSpec::column("text"),
        label_column: "labels".into(),
        label_form: form,
        label_map: None,
        validation: None,
        split: dialect::settings::SplitPlan {
            validation_fraction: 0.25,
            ..dialect::settings::SplitPlan::default()
        },
        corrections: None,
        validation_corrections: None,
        drop_overlap: false,
    }
}

/// Write a small multi-label ticket CSV with `per_kind` rows of each kind: a `labels`
/// column (sets joined by `;`) and the same sets as 0/1 columns `bug`, `feature`,
/// `question` (`x`/empty for `question`). Kinds: bug, feature, question, and a bug
/// that also asks a question.
pub fn write_multi_label_csv(path: &Path, per_kind: usize) {
    let bug = [
        "the app crashes when i click login",
        "sync crashes every time",
        "blank screen on open",
    ];
    let feature = [
        "please add dark mode",
        "would like an export option",
        "please add a data export",
    ];
    let question = [
        "how do i reset my password",
        "where can i change my email",
        "how do i get support",
    ];
    let mut out = String::from("text,labels,bug,feature,question\n");
    for i in 0..per_kind {
        let (b, f, q) = (bug[i % 3], feature[i % 3], question[i % 3]);
        out += &format!("\"{b}\",bug,1,0,\n");
        out += &format!("\"{f}\",feature,0,1,\n");
        out += &format!("\"{q}\",question,0,0,x\n");
        out += &format!("\"{b}, {q}\",bug;question,1,0,x\n");
    }
    std::fs::write(path, out).unwrap();
}

/// Train on `data` with `config` to the end (never cancelled): the summary and every
/// event, in order.
pub fn train_recording(
    config: &dialect::TrainConfig,
    data: &dialect::TrainData,
) -> (dialect::RunSummary, Vec<dialect::TrainEvent>) {
    let mut events = Vec::new();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let summary = dialect::Trainer::run(config, data, |e| events.push(e.clone()), &cancel).unwrap();
    (summary, events)
}
