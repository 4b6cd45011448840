//! Shared helpers for the engine integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Folder of the tiny golden model of `arch` ("distilbert", "bert" or "bert_legacy").
pub fn tiny_model(arch: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/golden")
        .join(arch)
        .join("model")
}

/// The shared benchmark data folder (`../shared/data` next to the repository).
pub fn shared_data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(file)
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
