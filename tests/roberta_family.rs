//! What sets RoBERTa and XLM-RoBERTa apart from BERT, on their tiny golden fixtures:
//! their tokenizers' special tokens and pad id, the position table's reserved rows,
//! transformers' class names on save (native and mean-pooling heads), int8 prediction,
//! and a clear error for an architecture outside the supported ones.

mod common;
#[path = "common/family.rs"]
mod family;

use candle_core::Device;
use dialect::model::tokenize::TextEncoder;
use dialect::model::SequenceClassifier;
use family::{
    check_saved_classes, check_special_tokens, config, copy_with_config, int8_shift, padded, texts,
};

const FAMILY: [(&str, &str); 2] = [("roberta", "Roberta"), ("xlm_roberta", "XLMRoberta")];

/// `<s>` (0) opens every row and `</s>` (2) closes it, also when truncation cuts the
/// text; rows are padded with `<pad>` (1), not 0.
#[test]
fn tokenizers_keep_their_special_tokens_and_pad_with_their_pad_id() {
    for (arch, _) in FAMILY {
        let encoded = check_special_tokens(&common::tiny_model(arch), 0, 2, 1);
        assert!(encoded[0].type_ids.iter().all(|&t| t == 0), "{arch}");
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
        let encoder = TextEncoder::load(&dir, 32).unwrap();
        let batch = padded(&encoder, &texts());
        check_saved_classes(&dir, &encoder, &batch, class);
    }
}

/// int8 prediction runs through the shared BERT layers: its logits move, but only a
/// little.
#[test]
fn int8_prediction_stays_close_to_f32() {
    for (arch, _) in FAMILY {
        let dir = common::tiny_model(arch);
        let batch = padded(&TextEncoder::load(&dir, 32).unwrap(), &texts());
        let diff = int8_shift(&dir, &batch);
        assert!(
            diff > 0.0 && diff < 0.05,
            "{arch}: int8 moved logits by {diff}"
        );
    }
}

#[test]
fn an_unsupported_architecture_names_the_supported_ones() {
    let dir = copy_with_config(&common::tiny_model("roberta"), |cfg| {
        cfg["model_type"] = "electra".into()
    });
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
