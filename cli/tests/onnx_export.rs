//! `dialect runs export ID FOLDER --onnx [--int8]` on a trained run: the folder and
//! its files, and the usage errors around it.

mod common;

use common::{dialect_in, stdout_json};
use predicates::prelude::*;

#[test]
fn a_trained_run_exports_as_onnx_with_its_tokenizer() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let runs = work.path().join("runs");
    let id = common::trained_tiny_run(work.path(), &home, &runs);
    let exports = work.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let export = |extra: &[&str]| {
        let mut cmd = dialect_in(&home);
        cmd.args(["runs", "export", &id])
            .arg(&exports)
            .args(extra)
            .arg("--runs-dir")
            .arg(&runs);
        cmd.assert()
    };

    let done = stdout_json(&export(&["--onnx", "--int8", "--json"]).success());
    let folder = exports.join(format!("dialect-{id}-onnx"));
    assert_eq!(done["folder"], folder.to_str().unwrap());
    let files: Vec<&str> = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for file in [
        "model.onnx",
        "model.int8.onnx",
        "tokenizer.json",
        "config.json",
        "dialect.json",
    ] {
        assert!(files.contains(&file), "{file} missing from {files:?}");
        assert!(folder.join(file).is_file(), "{file} not written");
    }
    // The labels travel in the graph's metadata.
    let graph = std::fs::read(folder.join("model.onnx")).unwrap();
    let has = |needle: &[u8]| graph.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"id2label") && has(b"feature_request"));
    // int8 weights are a quarter the size: the int8 graph is clearly smaller.
    let int8 = std::fs::metadata(folder.join("model.int8.onnx"))
        .unwrap()
        .len();
    assert!(
        int8 < graph.len() as u64,
        "int8 {int8} vs f32 {}",
        graph.len()
    );

    export(&["--onnx"])
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    export(&["--int8"])
        .code(2)
        .stderr(predicate::str::contains("--onnx"));
    // Without --onnx the Hugging Face folder is exported as before.
    export(&[]).success();
    assert!(exports
        .join(format!("dialect-{id}"))
        .join("model.safetensors")
        .is_file());
}
