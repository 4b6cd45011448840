//! Fuzz the ticket-file readers: arbitrary bytes as a CSV or JSONL file must give a
//! result or an error, never a panic, a hang or unbounded memory.
#![no_main]

use dialect::dataset::inspect::{inspect, InspectOptions};
use dialect::dataset::profile::profile_file;
use dialect::dataset::{read_labeled, TextSpec};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fn scratch(ext: &str) -> PathBuf {
    let dir = std::env::var_os("DIALECT_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("dialect-fuzz-{}.{ext}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let (ext, body) = match data.split_first() {
        Some((b, rest)) if b % 2 == 0 => ("csv", rest),
        Some((_, rest)) => ("jsonl", rest),
        None => ("csv", data),
    };
    let path = scratch(ext);
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let _ = profile_file(&path);
    let _ = read_labeled(&path, &TextSpec::column("text"), "label", None);
    let _ = inspect(&path, &InspectOptions::default());
});
