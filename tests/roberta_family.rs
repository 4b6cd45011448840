//! What sets RoBERTa and XLM-RoBERTa apart from BERT, on their tiny golden fixtures:
//! their tokenizers' special tokens and pad id, the position table's reserved rows,
//! transformers' class names on save (native and mean-pooling heads), int8 prediction,
//! and a clear error for an architecture outside the supported ones.

mod common;

use candle_core::{Device, Tensor};
use common::family::{config, logits, max_difference, padded, texts};
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;

const FAMILY: [(&str, &str); 2] = [("roberta", "Roberta"), ("xlm_roberta", "XLMRoberta")];

/// `<s>` (0) opens every row and `</s>` (2) closes it, also when truncation cuts the
/// text; rows are padded with `<pad>` (1), not 0.
#[test]
fn tokenizers_keep_their_special_tokens_and_pad_with_their_pad_id() {
    for (arch, _) in FAMILY {
        let encoder = TextEncoder::load(&common::tiny_model(arch), 8).unwrap();
        let encoded = encoder.encode(&texts()).unwrap();
        let long = &encoded[0];
        assert!(long.truncated, "{arch}");
        assert_eq!(long.ids.len(), 8, "{arch}");
        assert_eq!((long.ids[0], long.ids[7]), (0, 2), "{arch}: {:?}", long.ids);
        assert!(long.type_ids.iter().all(|&t| t == 0), "{arch}");
        let short = &encoded[1];
        assert!(short.ids.len() < 8, "{arch}: {:?}", short.ids);
        assert_eq!(short.ids.last(), Some(&2), "{arch}");
        let batch = encoder.collate(&[long, short], &Device::Cpu).unwrap();
        let row: Vec<Vec<u32>> = batch.input_ids.to_vec2().unwrap();
        let padding = &row[1][short.ids.len()..];
        assert!(
            !padding.is_empty() && padding.iter().all(|&id| id == 1),
            "{arch}: {row:?}"
        );
    }
}

/// 66 position rows with `<pad>` = 1 leave 64 for tokens (the first real token sits at
/// position 2).
#[test]
fn the_first_positions_are_reserved() {
    for (arch, _) in FAMILY {
        let dir = common::tiny_model(arch);
        assert_eq!(config(&dir)["max_position_embeddings"], 66);
        let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
        assert_eq!(model.max_positions(), 64, "{arch}");
    }
}

/// Saved with transformers' class names (the classifier, or the bare encoder under a
/// mean-pooling head) and `model_type` kept; reloaded, the logits are the same.
#[test]
fn saved_models_name_their_transformers_classes_and_reload_identically() {
    for (arch, class) in FAMILY {
        let dir = common::tiny_model(arch);
        let model = SequenceClassifier::load(&dir, None, &Device::Cpu, 0).unwrap();
        let model_type = config(&dir)["model_type"].clone();
        let encoder = TextEncoder::load(&dir, 32).unwrap();
        let batch = padded(&encoder, &texts());
        let before = logits(&model, &batch);
        let out = tempfile::tempdir().unwrap();
        model.save(out.path()).unwrap();
        encoder.save(out.path()).unwrap();
        let saved = config(out.path());
        assert_eq!(
            saved["architectures"][0],
            format!("{class}ForSequenceClassification")
        );
        assert_eq!(saved["model_type"], model_type);
        let reloaded = SequenceClassifier::load(out.path(), None, &Device::Cpu, 9).unwrap();
        assert!(reloaded.newly_initialised().is_empty(), "{arch}");
        assert_eq!(logits(&reloaded, &batch), before, "{arch}");

        // The baseline's head: the mean of the token vectors through one linear layer.
        let hidden = config(&dir)["hidden_size"].as_u64().unwrap() as usize;
        let weight = Tensor::ones((3, hidden), candle_core::DType::F32, &Device::Cpu).unwrap();
        let bias = Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap();
        let pooled = model.into_mean_pooling(&weight, &bias).unwrap();
        let pooled_logits = logits(&pooled, &batch);
        let pooled_dir = tempfile::tempdir().unwrap();
        pooled.save(pooled_dir.path()).unwrap();
        assert_eq!(
            config(pooled_dir.path())["architectures"][0],
            format!("{class}Model")
        );
        let reloaded = SequenceClassifier::load(pooled_dir.path(), None, &Device::Cpu, 9).unwrap();
        assert!(reloaded.is_mean_pooling(), "{arch}");
        assert_eq!(logits(&reloaded, &batch), pooled_logits, "{arch}");
    }
}

/// int8 prediction runs through the shared BERT layers: its logits move, but only a
/// little.
#[test]
fn int8_prediction_stays_close_to_f32() {
    for (arch, _) in FAMILY {
        let dir = common::tiny_model(arch);
        let batch = padded(&TextEncoder::load(&dir, 32).unwrap(), &texts());
        let f32s = logits(
            &SequenceClassifier::load_frozen(&dir, &Device::Cpu).unwrap(),
            &batch,
        );
        let mut model = SequenceClassifier::load_frozen(&dir, &Device::Cpu).unwrap();
        model.quantize().unwrap();
        let diff = max_difference(&logits(&model, &batch), &f32s);
        assert!(
            diff > 0.0 && diff < 0.05,
            "{arch}: int8 moved logits by {diff}"
        );
    }
}

#[test]
fn an_unsupported_architecture_names_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(common::tiny_model("roberta")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let mut cfg = config(dir.path());
    cfg["model_type"] = "electra".into();
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    let err = SequenceClassifier::load(dir.path(), None, &Device::Cpu, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("architecture 'electra'")
            && err.contains("supported: distilbert, bert, roberta, xlm-roberta")
            && err.contains("deberta-v2"),
        "{err}"
    );
}
