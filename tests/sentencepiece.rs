//! DeBERTa's SentencePiece `spm.model` converted in Rust gives the ids of the tokenizer
//! transformers' `DebertaV2Converter` builds (tests/fixtures/sentencepiece, written by
//! tools/golden/make_sentencepiece.py), saves as a tokenizer.json that reloads to the
//! same ids, and lets the golden DeBERTa model load from spm.model alone and give
//! transformers' logits.

mod common;

use candle_core::Device;
use dialect::model::layers::Mode;
use dialect::model::resolve::resolve_model;
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    common::repo_root().join("tests/fixtures/sentencepiece")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The fixture's texts and the converter's ids for each.
fn cases() -> Vec<(String, Vec<u32>)> {
    let ids = read_json(&fixtures().join("ids.json"));
    ids["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = c["text"].as_str().unwrap().to_string();
            (text, serde_json::from_value(c["ids"].clone()).unwrap())
        })
        .collect()
}

/// A folder holding only `files` (name in the folder, source path).
fn folder(files: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, from) in files {
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    dir
}

fn encode_all(encoder: &TextEncoder, texts: &[String]) -> Vec<Vec<u32>> {
    encoder
        .encode(texts)
        .unwrap()
        .into_iter()
        .map(|e| e.ids)
        .collect()
}

#[test]
fn converted_spm_gives_the_converters_ids_for_every_text() {
    let cases = cases();
    assert_eq!(cases.len(), 20);
    let dir = folder(&[("spm.model", fixtures().join("spm.model"))]);
    let encoder = TextEncoder::load(dir.path(), 512).unwrap();
    let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();
    for ((text, theirs), ours) in cases.iter().zip(encode_all(&encoder, &texts)) {
        assert_eq!(&ours, theirs, "ids of {text:?}");
    }
    // [MASK] follows the 300 pieces, as transformers adds it.
    assert_eq!(read_json(&fixtures().join("ids.json"))["mask_id"], 300);
    let masked = encode_all(&encoder, &["[MASK]".to_string()]);
    assert_eq!(masked, vec![vec![1, 300, 2]]);
}

#[test]
fn the_saved_tokenizer_json_reloads_to_the_same_ids() {
    let cases = cases();
    let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();
    let source = folder(&[("spm.model", fixtures().join("spm.model"))]);
    let encoder = TextEncoder::load(source.path(), 512).unwrap();
    let saved = tempfile::tempdir().unwrap();
    encoder.save(saved.path()).unwrap();
    let json = read_json(&saved.path().join("tokenizer.json"));
    assert_eq!(json["model"]["type"], "Unigram");
    assert_eq!(json["normalizer"]["normalizers"][1]["type"], "Precompiled");
    let reloaded = TextEncoder::load(saved.path(), 512).unwrap();
    let expected: Vec<Vec<u32>> = cases.into_iter().map(|(_, ids)| ids).collect();
    assert_eq!(encode_all(&reloaded, &texts), expected);
}

#[test]
fn lowercase_and_prefix_settings_of_tokenizer_config_apply() {
    let dir = folder(&[("spm.model", fixtures().join("spm.model"))]);
    let encode = |text: &str, config: &str| {
        std::fs::write(dir.path().join("tokenizer_config.json"), config).unwrap();
        let encoder = TextEncoder::load(dir.path(), 512).unwrap();
        encode_all(&encoder, &[text.to_string()]).remove(0)
    };
    let shouting = "UPPER CASE SHOUTING ABOUT BILLING";
    let lowered = encode(shouting, r#"{"do_lower_case": true}"#);
    assert_eq!(lowered, encode(&shouting.to_lowercase(), "{}"));
    assert_ne!(lowered, encode(shouting, "{}"));
    // Without the prefix space the first word has no "▁" (here: "▁crash" → "c"…).
    let with_prefix = encode("crash", "{}");
    let without = encode("crash", r#"{"add_prefix_space": false}"#);
    assert_eq!(with_prefix.len(), 3, "{with_prefix:?}");
    assert!(without.len() > 3, "{without:?}");
}

#[test]
fn a_deberta_folder_with_only_spm_model_loads_and_gives_transformers_logits() {
    let golden_dir = common::tiny_model("deberta_v2");
    let golden = read_json(&golden_dir.parent().unwrap().join("golden.json"));
    let dir = folder(&[
        ("config.json", golden_dir.join("config.json")),
        ("model.safetensors", golden_dir.join("model.safetensors")),
        (
            "tokenizer_config.json",
            golden_dir.join("tokenizer_config.json"),
        ),
        ("spm.model", fixtures().join("golden_deberta_spm.model")),
    ]);
    let resolved = resolve_model(&dir.path().display().to_string()).unwrap();
    let encoder = TextEncoder::load(&resolved, 64).unwrap();
    let texts: Vec<String> = serde_json::from_value(golden["texts"].clone()).unwrap();
    let encoded = encoder.encode(&texts).unwrap();
    let theirs: Vec<Vec<u32>> =
        serde_json::from_value(golden["encoded"]["input_ids"].clone()).unwrap();
    for (ours, theirs) in encoded.iter().zip(&theirs) {
        assert_eq!(ours.ids, theirs[..ours.ids.len()], "ids");
        assert!(
            theirs[ours.ids.len()..].iter().all(|&id| id == 0),
            "padding"
        );
    }

    let model = SequenceClassifier::load(&resolved, None, &Device::Cpu, 0).unwrap();
    let refs: Vec<_> = encoded.iter().collect();
    let batch = encoder.collate(&refs, &Device::Cpu).unwrap();
    let logits: Vec<Vec<f32>> = model
        .forward(&batch, &Mode::Eval)
        .unwrap()
        .to_vec2()
        .unwrap();
    let expected: Vec<Vec<f32>> = serde_json::from_value(golden["logits"].clone()).unwrap();
    let worst = logits
        .iter()
        .flatten()
        .zip(expected.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 2e-5, "logits differ by {worst}");
    // The padded batch's shape is the longest row's.
    let longest = encoded.iter().map(|e| e.ids.len()).max().unwrap();
    assert_eq!(batch.input_ids.dims(), &[texts.len(), longest]);
}

#[test]
fn a_corrupt_spm_model_is_a_clear_error_naming_the_file() {
    let bytes = std::fs::read(fixtures().join("spm.model")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spm.model");
    for cut in [1, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = match TextEncoder::load(dir.path(), 64) {
            Ok(_) => panic!("a cut at {cut} of {} loaded", bytes.len()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("not a readable SentencePiece model"),
            "{err}"
        );
    }
}
