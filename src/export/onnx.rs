//! A fine-tuned model as ONNX: `model.onnx` (f32) and, when asked, `model.int8.onnx`
//! (encoder weights int8, activations quantized at run time), written by Dialect
//! itself, with the tokenizer files, config.json and dialect.json beside them.
//!
//! Inputs `input_ids` and `attention_mask`, int64 `(batch, sequence)`, both axes
//! dynamic (token types are 0 for one text per row and folded into the graph).
//! Outputs `logits` `(batch, labels)` and `probabilities`: the softmax of
//! `logits / temperature` (the card's calibration, else 1), or for a multi-label model
//! each label's sigmoid, the probabilities the engine's `Predictor` gives.

use super::deberta::Deberta;
use super::encoder::{Encoder, Kind};
use super::graph::Graph;
use super::layers::Weights;
use super::modernbert::ModernBert;
use super::proto::{Attribute, DataType, Dim};
use crate::atomic::write_atomic;
use crate::error::{EngineError, Result};
use crate::model::bert::{BertConfig, Family};
use crate::model::distilbert::DistilBertConfig;
use crate::model::tokenize::TextEncoder;
use crate::model::{Arch, SequenceClassifier};
use crate::model_card::ModelCard;
use crate::runs::RunStore;
use candle_core::{Device, Tensor};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The f32 graph's file name.
pub const MODEL_FILE: &str = "model.onnx";
/// The int8 graph's file name.
pub const INT8_FILE: &str = "model.int8.onnx";
/// The files copied beside the graphs when the model folder has them.
const BESIDE: [&str; 2] = ["config.json", "dialect.json"];

/// What to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnnxOptions {
    /// Also write `model.int8.onnx`.
    pub int8: bool,
}

/// A finished export: its folder and the files in it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnnxExport {
    pub folder: PathBuf,
    pub files: Vec<String>,
}

/// Export run `id`'s best model into `<parent>/dialect-<id>-onnx`.
pub fn export_run_onnx(
    store: &RunStore,
    id: &str,
    parent: &Path,
    options: OnnxOptions,
) -> Result<OnnxExport> {
    let model = store.model_dir(id)?;
    export_onnx(&model, &parent.join(format!("dialect-{id}-onnx")), options)
}

/// Export the fine-tuned model in `model_dir` into the new folder `target` (refused
/// when it exists). The folder is filled under a temporary name and renamed into
/// place, so it is whole or absent.
pub fn export_onnx(model_dir: &Path, target: &Path, options: OnnxOptions) -> Result<OnnxExport> {
    if target.exists() {
        return Err(EngineError::Config(format!(
            "{} already exists: choose another folder or remove it",
            target.display()
        )));
    }
    let dir = crate::predict::model_dir(model_dir)?;
    let model = SequenceClassifier::load_frozen(&dir, &Device::Cpu)?;
    let card = ModelCard::load(&dir);
    let max_length = card
        .as_ref()
        .map_or(128, |c| c.max_length)
        .min(model.max_positions());
    let metadata = metadata(&model, card.as_ref(), max_length);
    // Built before any folder is made: an unsupported model leaves nothing behind.
    let f32_graph = graph(&dir, &model, card.as_ref(), false)?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "onnx".into());
    let partial = parent.join(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| EngineError::io(&partial, e))?;
    let written = (|| {
        // One graph in memory at a time.
        let bytes = f32_graph.into_model(MODEL_FILE, &metadata);
        write_atomic(&partial.join(MODEL_FILE), &bytes)?;
        drop(bytes);
        if options.int8 {
            let g = graph(&dir, &model, card.as_ref(), true)?;
            write_atomic(
                &partial.join(INT8_FILE),
                &g.into_model(INT8_FILE, &metadata),
            )?;
        }
        TextEncoder::load(&dir, max_length)?.save(&partial)?;
        for file in BESIDE {
            let from = dir.join(file);
            if from.is_file() {
                let bytes = std::fs::read(&from).map_err(|e| EngineError::io(&from, e))?;
                write_atomic(&partial.join(file), &bytes)?;
            }
        }
        std::fs::rename(&partial, target).map_err(|e| EngineError::io(target, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    let mut files: Vec<String> = std::fs::read_dir(target)
        .map_err(|e| EngineError::io(target, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    Ok(OnnxExport {
        folder: target.to_path_buf(),
        files,
    })
}

/// The whole graph of `model`: network, logits and probabilities.
fn graph(
    dir: &Path,
    model: &SequenceClassifier,
    card: Option<&ModelCard>,
    int8: bool,
) -> Result<Graph> {
    let mut g = Graph::new();
    let tokens = [Dim::Named("batch"), Dim::Named("sequence")];
    let ids = g.input("input_ids", DataType::Int64, &tokens);
    let mask = g.input("attention_mask", DataType::Int64, &tokens);
    let logits = network(&mut g, dir, model, &ids, &mask, int8)?;
    let probabilities = if model.is_multi_label() {
        g.op("Sigmoid", &[&logits], &[])
    } else {
        let temperature = g.scalar(card.map_or(1.0, ModelCard::temperature) as f32);
        let tempered = g.op("Div", &[&logits, &temperature], &[]);
        g.op("Softmax", &[&tempered], &[("axis", Attribute::Int(1))])
    };
    let out = [Dim::Named("batch"), Dim::Fixed(model.labels().len())];
    g.output(&logits, "logits", DataType::Float, &out);
    g.output(&probabilities, "probabilities", DataType::Float, &out);
    Ok(g)
}

/// `model`'s network added to `g`, from the token ids and mask to the logits, whose
/// name it returns.
fn network(
    g: &mut Graph,
    dir: &Path,
    model: &SequenceClassifier,
    ids: &str,
    mask: &str,
    int8: bool,
) -> Result<String> {
    let name = dir.display().to_string();
    let bad = |e: serde_json::Error| EngineError::model(&name, format!("config.json: {e}"));
    let config = model.config().clone();
    let weights: HashMap<String, Tensor> = model.weights().iter().cloned().collect();
    let named = Weights {
        map: &weights,
        model: &name,
    };
    let mean_pooling = model.is_mean_pooling();
    let (shape, kind) = match model.arch() {
        Arch::Bert => Encoder::bert_shape(
            &serde_json::from_value::<BertConfig>(config).map_err(bad)?,
            Family::Bert,
        )?,
        Arch::Roberta | Arch::XlmRoberta => Encoder::bert_shape(
            &serde_json::from_value::<BertConfig>(config).map_err(bad)?,
            Family::Roberta,
        )?,
        Arch::DistilBert => (
            Encoder::distilbert_shape(
                &serde_json::from_value::<DistilBertConfig>(config).map_err(bad)?,
            )?,
            Kind::DistilBert,
        ),
        Arch::ModernBert => {
            let cfg = serde_json::from_value(config).map_err(bad)?;
            return ModernBert {
                cfg,
                weights: named,
                mean_pooling,
            }
            .build(g, ids, mask, int8);
        }
        Arch::DebertaV2 => {
            let cfg = serde_json::from_value(config).map_err(bad)?;
            return Deberta {
                cfg,
                weights: named,
                mean_pooling,
            }
            .build(g, ids, mask, int8);
        }
    };
    let encoder = Encoder {
        kind,
        shape,
        weights: &weights,
        mean_pooling,
        model: name.clone(),
    };
    encoder.build(g, ids, mask, int8)
}

/// The model's metadata_props: what a consumer needs beside the graph.
fn metadata(
    model: &SequenceClassifier,
    card: Option<&ModelCard>,
    max_length: usize,
) -> Vec<(String, String)> {
    let id2label: serde_json::Map<String, serde_json::Value> = model
        .labels()
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let multi_label = model.is_multi_label();
    let mut entries = vec![
        ("id2label", serde_json::Value::Object(id2label).to_string()),
        ("max_length", max_length.to_string()),
        ("architecture", model.arch().model_type().to_string()),
        ("multi_label", multi_label.to_string()),
    ];
    if let Some(card) = card {
        entries.push(("base_model", card.base_model.clone()));
        if let Some(c) = card.calibration.as_ref().filter(|_| !multi_label) {
            entries.push(("temperature", c.temperature.to_string()));
        }
        if let Some(r) = card.routing.as_ref().filter(|_| !multi_label) {
            entries.push(("routing_threshold", r.threshold.to_string()));
        }
        if let Some(m) = card.multi_label.as_ref().filter(|_| multi_label) {
            entries.push(("thresholds", json!(m.thresholds).to_string()));
        }
        if let Some(spec) = card.text.as_ref().filter(|t| !t.scrub.is_empty()) {
            // The graph takes token ids: a consumer must scrub these kinds first.
            entries.push(("scrub", json!(spec.scrub).to_string()));
        }
    }
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}
