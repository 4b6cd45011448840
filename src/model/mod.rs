//! Sequence-classification models: resolve a model, load its architecture and
//! weights, run it, and save it in Hugging Face layout.

pub mod bert;
pub mod deberta;
pub mod int8;
pub use crate::kernels::SimdPath;
pub mod distilbert;
pub mod folder;
pub mod layers;
pub mod modernbert;
pub mod params;
pub mod relative_position;
pub mod resolve;
pub mod sentencepiece;
pub mod tokenize;

use crate::atomic::{write_atomic, write_safetensors};
use crate::error::{EngineError, Result};
use bert::{BertClassifier, BertConfig, Family};
use candle_core::{DType, Device, Tensor, Var};
use deberta::{DebertaClassifier, DebertaConfig};
use distilbert::{DistilBertClassifier, DistilBertConfig};
use layers::{masked_mean, Linear, Mode};
use modernbert::{ModernBertClassifier, ModernBertConfig};
use params::{read_checkpoint, HeadPolicy, ParamLoader};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

/// Supported encoder architectures, by config.json's `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    DistilBert,
    Bert,
    Roberta,
    #[serde(rename = "xlm-roberta")]
    XlmRoberta,
    ModernBert,
    #[serde(rename = "deberta-v2")]
    DebertaV2,
}

impl Arch {
    /// Every supported architecture.
    pub const ALL: [Arch; 6] = [
        Arch::DistilBert,
        Arch::Bert,
        Arch::Roberta,
        Arch::XlmRoberta,
        Arch::ModernBert,
        Arch::DebertaV2,
    ];

    /// config.json's `model_type`.
    pub fn model_type(self) -> &'static str {
        match self {
            Arch::DistilBert => "distilbert",
            Arch::Bert => "bert",
            Arch::Roberta => "roberta",
            Arch::XlmRoberta => "xlm-roberta",
            Arch::ModernBert => "modernbert",
            Arch::DebertaV2 => "deberta-v2",
        }
    }

    /// transformers' class name for the bare encoder.
    pub fn encoder_name(self) -> &'static str {
        match self {
            Arch::DistilBert => "DistilBertModel",
            Arch::Bert => "BertModel",
            Arch::Roberta => "RobertaModel",
            Arch::XlmRoberta => "XLMRobertaModel",
            Arch::ModernBert => "ModernBertModel",
            Arch::DebertaV2 => "DebertaV2Model",
        }
    }

    /// transformers' class name for the classifier.
    pub fn architecture_name(self) -> &'static str {
        match self {
            Arch::DistilBert => "DistilBertForSequenceClassification",
            Arch::Bert => "BertForSequenceClassification",
            Arch::Roberta => "RobertaForSequenceClassification",
            Arch::XlmRoberta => "XLMRobertaForSequenceClassification",
            Arch::ModernBert => "ModernBertForSequenceClassification",
            Arch::DebertaV2 => "DebertaV2ForSequenceClassification",
        }
    }
}

/// One batch of token ids on the model's device: padded rows, shapes `(batch, len)`,
/// or on the CPU a padding-free batch, the rows one after the other, shapes
/// `(1, tokens)` ([`TextEncoder::collate_packed`](tokenize::TextEncoder::collate_packed)).
pub struct Batch {
    pub input_ids: Tensor,
    /// 1 for real tokens, 0 for padding (all 1 in a padding-free batch).
    pub attention_mask: Tensor,
    pub token_type_ids: Tensor,
    /// A padding-free batch's row boundaries: row `r` is tokens
    /// `offsets[r]..offsets[r + 1]`; `None` for padded rows.
    pub offsets: Option<Vec<usize>>,
}

enum Net {
    DistilBert(DistilBertClassifier),
    /// BERT, RoBERTa and XLM-RoBERTa.
    Bert(BertClassifier),
    ModernBert(ModernBertClassifier),
    /// DeBERTa-v2 and -v3.
    Deberta(DebertaClassifier),
}

/// How logits are read from the encoder's token vectors.
enum Head {
    /// transformers' own head for the architecture (on the first token).
    Native,
    /// The mean of the token vectors (padding excluded) through one linear layer: the
    /// quick baseline over a frozen encoder. Marked `"dialect_head": "mean_pooling"` in
    /// config.json, weights `dialect_head.weight` / `dialect_head.bias`.
    MeanPooling(Linear),
}

/// config.json key and value of a mean-pooling head.
const HEAD_KEY: &str = "dialect_head";
const MEAN_POOLING: &str = "mean_pooling";

/// Whether `name` belongs to transformers' native classification head.
fn is_native_head(name: &str) -> bool {
    [
        "pre_classifier.",
        "classifier.",
        "bert.pooler.",
        "head.",
        "pooler.",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// transformers' `problem_type` of a multi-label classifier.
const MULTI_LABEL: &str = "multi_label_classification";

/// A transformer encoder with a classification head, its trainable variables and
/// its labels.
pub struct SequenceClassifier {
    arch: Arch,
    net: Net,
    /// Every weight with its transformers name (what `save` writes).
    params: Vec<(String, Tensor)>,
    /// The trainable variables; empty for a frozen model.
    vars: Vec<(String, Var)>,
    newly_initialised: Vec<String>,
    labels: Vec<String>,
    config: Value,
    device: Device,
    compute: DType,
    head: Head,
}

impl SequenceClassifier {
    /// Load from a Hugging Face layout folder. `labels`: the classes to train for
    /// (the head is initialised if the checkpoint has none; one of another size is an
    /// error); `None` takes them from config.json's `id2label` (a fine-tuned model,
    /// whose head must be complete). `seed` drives head init.
    pub fn load(
        dir: &Path,
        labels: Option<Vec<String>>,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        let head = match labels {
            Some(_) => HeadPolicy::InitIfAbsent,
            None => HeadPolicy::Require,
        };
        Self::load_with_head(dir, labels, head, device, seed)
    }

    /// [`Self::load`] with an explicit head policy, e.g. [`HeadPolicy::InitIfMismatched`]
    /// to fine-tune a classifier on other classes.
    pub fn load_with_head(
        dir: &Path,
        labels: Option<Vec<String>>,
        head: HeadPolicy,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        let name = dir.display().to_string();
        let config = read_config(dir, &name)?;
        Self::build(
            &name,
            config,
            || read_checkpoint(dir),
            labels,
            head,
            device,
            seed,
            true,
        )
    }

    /// Load a fine-tuned model (labels from config.json) for inference only: its
    /// weights are the checkpoint's tensors, and its forward passes record no graph.
    pub fn load_frozen(dir: &Path, device: &Device) -> Result<Self> {
        let name = dir.display().to_string();
        let config = read_config(dir, &name)?;
        Self::build(
            &name,
            config,
            || read_checkpoint(dir),
            None,
            HeadPolicy::Require,
            device,
            0,
            false,
        )
    }

    /// An inference-only view of this model: the same weights (shared storage, so it
    /// sees every later optimiser update) as plain tensors, so that its forward passes
    /// record no graph and keep no activations alive for a backward pass.
    pub fn frozen(&self) -> Result<Self> {
        let name = format!("{} (frozen)", self.arch.encoder_name());
        let weights: HashMap<String, Tensor> = self
            .params
            .iter()
            .map(|(n, t)| (n.clone(), t.detach()))
            .collect();
        let labels = Some(self.labels.clone());
        let mut view = Self::build(
            &name,
            self.config.clone(),
            || Ok(weights),
            labels,
            HeadPolicy::Require,
            &self.device,
            0,
            false,
        )?;
        view.compute = self.compute;
        Ok(view)
    }

    /// Compute the encoder's linear layers from int8 weights from now on
    /// ([`int8::QuantizedLinear`]): prediction on the CPU only, for a model loaded
    /// frozen (a trainable one has no backward pass through int8).
    pub fn quantize(&mut self) -> Result<()> {
        if !self.device.is_cpu() {
            return Err(EngineError::Config(
                "int8 prediction runs on the CPU only".into(),
            ));
        }
        if !self.vars.is_empty() {
            return Err(EngineError::Config(
                "a model being trained cannot be quantized; quantize a frozen copy".into(),
            ));
        }
        match &mut self.net {
            Net::DistilBert(m) => m.quantize(),
            Net::Bert(m) => m.quantize(),
            Net::ModernBert(m) => m.quantize(),
            Net::Deberta(m) => m.quantize(),
        }
    }

    /// Build from a parsed config.json and the checkpoint's tensors (read by
    /// `checkpoint` once the config is known to be usable); `name` labels errors.
    /// Heads follow [`Self::load`]'s rule for `labels`.
    pub fn from_parts(
        name: &str,
        config: Value,
        checkpoint: impl FnOnce() -> Result<HashMap<String, Tensor>>,
        labels: Option<Vec<String>>,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        let head = match labels {
            Some(_) => HeadPolicy::InitIfAbsent,
            None => HeadPolicy::Require,
        };
        Self::build(name, config, checkpoint, labels, head, device, seed, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        name: &str,
        config: Value,
        checkpoint: impl FnOnce() -> Result<HashMap<String, Tensor>>,
        labels: Option<Vec<String>>,
        head: HeadPolicy,
        device: &Device,
        seed: u64,
        trainable: bool,
    ) -> Result<Self> {
        let arch = match config.get("model_type").and_then(Value::as_str) {
            Some(kind) => Arch::ALL
                .into_iter()
                .find(|a| a.model_type() == kind)
                .ok_or_else(|| {
                    let supported: Vec<&str> = Arch::ALL.iter().map(|a| a.model_type()).collect();
                    EngineError::model(
                        name,
                        format!(
                            "architecture '{kind}' (config.json model_type) is not supported; \
                             supported: {}",
                            supported.join(", ")
                        ),
                    )
                })?,
            None => return Err(EngineError::model(name, "config.json has no model_type")),
        };
        let labels = match labels {
            Some(l) => l,
            None => labels_from_config(&config).ok_or_else(|| {
                EngineError::model(
                    name,
                    "config.json has no id2label: is this a fine-tuned classifier?",
                )
            })?,
        };
        if labels.len() < 2 {
            return Err(EngineError::Config(format!(
                "a classifier needs at least 2 classes, got {}",
                labels.len()
            )));
        }
        let raw = checkpoint()?;
        let mean_pooling = config.get(HEAD_KEY).and_then(Value::as_str) == Some(MEAN_POOLING);
        // A mean-pooling model never uses the native head it is built with.
        let native_head = if mean_pooling {
            HeadPolicy::InitIfAbsent
        } else {
            head
        };
        let bad = |e: serde_json::Error| EngineError::model(name, format!("config.json: {e}"));
        let (net, mut loader) = match arch {
            Arch::DistilBert => {
                let cfg: DistilBertConfig = serde_json::from_value(config.clone()).map_err(bad)?;
                let mut p = ParamLoader::new(
                    name,
                    raw,
                    "distilbert",
                    &["pre_classifier", "classifier", HEAD_KEY],
                    native_head,
                    device,
                    seed,
                    trainable,
                );
                (
                    Net::DistilBert(DistilBertClassifier::load(cfg, &mut p, labels.len())?),
                    p,
                )
            }
            Arch::Bert | Arch::Roberta | Arch::XlmRoberta => {
                let family = match arch {
                    Arch::Bert => Family::Bert,
                    _ => Family::Roberta,
                };
                let cfg: BertConfig = serde_json::from_value(config.clone()).map_err(bad)?;
                let mut p = ParamLoader::new(
                    name,
                    raw,
                    family.prefix(),
                    &["classifier", HEAD_KEY],
                    native_head,
                    device,
                    seed,
                    trainable,
                );
                (
                    Net::Bert(BertClassifier::load(cfg, family, &mut p, labels.len())?),
                    p,
                )
            }
            Arch::ModernBert => {
                let cfg: ModernBertConfig = serde_json::from_value(config.clone()).map_err(bad)?;
                let mut p = ParamLoader::new(
                    name,
                    raw,
                    "model",
                    &["head", "classifier", "decoder", HEAD_KEY],
                    native_head,
                    device,
                    seed,
                    trainable,
                );
                let net = ModernBertClassifier::load(cfg, &mut p, labels.len())?;
                (Net::ModernBert(net), p)
            }
            Arch::DebertaV2 => {
                let cfg: DebertaConfig = serde_json::from_value(config.clone()).map_err(bad)?;
                let mut p = ParamLoader::new(
                    name,
                    raw,
                    "deberta",
                    &["pooler", "classifier", HEAD_KEY],
                    native_head,
                    device,
                    seed,
                    trainable,
                );
                let net = DebertaClassifier::load(cfg, &mut p, labels.len())?;
                (Net::Deberta(net), p)
            }
        };
        let head = if mean_pooling {
            let hidden = match &net {
                Net::DistilBert(m) => m.hidden_size(),
                Net::Bert(m) => m.hidden_size(),
                Net::ModernBert(m) => m.hidden_size(),
                Net::Deberta(m) => m.hidden_size(),
            };
            Head::MeanPooling(Linear::load(&mut loader, HEAD_KEY, hidden, labels.len())?)
        } else {
            Head::Native
        };
        let loaded = loader.finish();
        let (mut params, mut vars, mut newly_initialised) =
            (loaded.params, loaded.vars, loaded.initialised);
        if matches!(head, Head::MeanPooling(_)) {
            // The native head is built (the nets always have one) but never used.
            params.retain(|(n, _)| !is_native_head(n));
            vars.retain(|(n, _)| !is_native_head(n));
            newly_initialised.retain(|n| !is_native_head(n));
        }
        Ok(Self {
            arch,
            net,
            params,
            vars,
            newly_initialised,
            labels,
            config,
            device: device.clone(),
            compute: DType::F32,
            head,
        })
    }

    /// Whether [`Self::forward`] takes padding-free batches
    /// ([`TextEncoder::collate_packed`](tokenize::TextEncoder::collate_packed)): on the
    /// CPU, with transformers' head (mean pooling reads padded rows), for every
    /// architecture but ModernBERT (its local attention windows need padded rows) and
    /// DeBERTa (its relative positions are per padded row).
    pub fn takes_packed(&self) -> bool {
        self.device.is_cpu()
            && matches!(self.head, Head::Native)
            && !matches!(self.net, Net::ModernBert(_) | Net::Deberta(_))
    }

    /// Logits `(batch, labels)`, f32.
    pub fn forward(&self, batch: &Batch, mode: &Mode) -> Result<Tensor> {
        match &self.head {
            Head::Native => match &self.net {
                Net::DistilBert(m) => m.forward(batch, mode, self.compute),
                Net::Bert(m) => m.forward(batch, mode, self.compute),
                Net::ModernBert(m) => m.forward(batch, mode, self.compute),
                Net::Deberta(m) => m.forward(batch, mode, self.compute),
            },
            Head::MeanPooling(linear) => {
                let pooled = self.mean_pooled(batch, mode)?;
                linear.forward(&pooled, DType::F32)
            }
        }
    }

    /// The mean of each row's token vectors, padding excluded: `(batch, hidden)`, f32.
    /// Takes padded batches only.
    pub fn mean_pooled(&self, batch: &Batch, mode: &Mode) -> Result<Tensor> {
        if batch.offsets.is_some() {
            return Err(EngineError::Config(
                "mean pooling takes padded batches, not padding-free ones".into(),
            ));
        }
        let tokens = match &self.net {
            Net::DistilBert(m) => m.encode(batch, mode, self.compute)?,
            Net::Bert(m) => m.encode(batch, mode, self.compute)?,
            Net::ModernBert(m) => m.encode(batch, mode, self.compute)?,
            Net::Deberta(m) => m.encode(batch, mode, self.compute)?,
        };
        masked_mean(&tokens, &batch.attention_mask)
    }

    /// Replace the native head by a mean-pooling linear head with these weights
    /// (`(labels, hidden)` and `(labels,)`), e.g. fitted on frozen features.
    pub fn into_mean_pooling(mut self, weight: &Tensor, bias: &Tensor) -> Result<Self> {
        let weight = Var::from_tensor(&weight.to_device(&self.device)?)?;
        let bias = Var::from_tensor(&bias.to_device(&self.device)?)?;
        self.params.retain(|(n, _)| !is_native_head(n));
        self.vars.retain(|(n, _)| !is_native_head(n));
        self.newly_initialised.retain(|n| !is_native_head(n));
        self.head = Head::MeanPooling(Linear::new(
            weight.as_tensor().clone(),
            bias.as_tensor().clone(),
        ));
        for (n, v) in [("weight", weight), ("bias", bias)] {
            let name = format!("{HEAD_KEY}.{n}");
            self.params.push((name.clone(), v.as_tensor().clone()));
            self.vars.push((name, v));
        }
        if let Value::Object(map) = &mut self.config {
            map.insert(HEAD_KEY.into(), json!(MEAN_POOLING));
        }
        Ok(self)
    }

    /// Every weight with its transformers name (what `save` writes), e.g. to export.
    pub fn weights(&self) -> &[(String, Tensor)] {
        &self.params
    }

    /// The parsed config.json the model was built from.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Whether the head is the mean-pooling baseline head.
    pub fn is_mean_pooling(&self) -> bool {
        matches!(self.head, Head::MeanPooling(_))
    }

    /// Run matrix products and activations in `dtype` (bf16 for mixed precision);
    /// weights stay f32. The default is f32.
    pub fn set_compute_dtype(&mut self, dtype: DType) {
        self.compute = dtype;
    }

    /// The dtype matrix products run in.
    pub fn compute_dtype(&self) -> DType {
        self.compute
    }

    /// The architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// Class names, index = output position.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Trainable variables with their transformers names, in a stable order (none for a
    /// frozen model).
    pub fn vars(&self) -> &[(String, Var)] {
        &self.vars
    }

    /// Names of weights that were not in the checkpoint and were initialised.
    pub fn newly_initialised(&self) -> &[String] {
        &self.newly_initialised
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Longest input the model accepts (its position table).
    pub fn max_positions(&self) -> usize {
        match &self.net {
            Net::DistilBert(m) => m.max_positions(),
            Net::Bert(m) => m.max_positions(),
            Net::ModernBert(m) => m.max_positions(),
            Net::Deberta(m) => m.max_positions(),
        }
    }

    /// Write `config.json` (with `architectures`, `id2label`, `label2id`,
    /// `problem_type`) and `model.safetensors` into `dir`, each atomically.
    /// Whether the model scores each label on its own (sigmoid per label): config.json's
    /// `problem_type` is `multi_label_classification`, as transformers names it.
    pub fn is_multi_label(&self) -> bool {
        self.config.get("problem_type").and_then(Value::as_str) == Some(MULTI_LABEL)
    }

    /// Make the model multi-label (or single-label): what `save` records.
    pub fn set_multi_label(&mut self, multi_label: bool) {
        if let Value::Object(map) = &mut self.config {
            let kind = if multi_label {
                MULTI_LABEL
            } else {
                "single_label_classification"
            };
            map.insert("problem_type".into(), json!(kind));
        }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
        let mut config = self.config.clone();
        if let Value::Object(map) = &mut config {
            let id2label: serde_json::Map<String, Value> = self
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| (i.to_string(), json!(l)))
                .collect();
            let label2id: serde_json::Map<String, Value> = self
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), json!(i)))
                .collect();
            // A mean-pooling model is an encoder to transformers (its head is ours).
            let architecture = match self.head {
                Head::Native => self.arch.architecture_name(),
                Head::MeanPooling(_) => self.arch.encoder_name(),
            };
            map.insert("architectures".into(), json!([architecture]));
            map.insert("id2label".into(), Value::Object(id2label));
            map.insert("label2id".into(), Value::Object(label2id));
            if !self.is_multi_label() {
                map.insert("problem_type".into(), json!("single_label_classification"));
            }
            map.insert("torch_dtype".into(), json!("float32"));
            map.remove("num_labels");
            map.remove("_num_labels");
        }
        write_atomic(
            &dir.join("config.json"),
            serde_json::to_string_pretty(&config)?.as_bytes(),
        )?;
        let tensors: Vec<(String, Tensor)> = self
            .params
            .iter()
            .map(|(n, t)| Ok((n.clone(), t.to_device(&Device::Cpu)?)))
            .collect::<Result<_>>()?;
        let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
        write_safetensors(
            &dir.join("model.safetensors"),
            tensors.iter().map(|(n, t)| (n.as_str(), t)),
            Some(metadata),
        )
    }
}

/// The classes (config.json's `id2label`, in order) of the fine-tuned classifier in
/// `dir` and whether its head is multi-label, read without loading its weights.
pub(crate) fn read_head(dir: &Path) -> Result<(Vec<String>, bool)> {
    let name = dir.display().to_string();
    let config = read_config(dir, &name)?;
    let labels = labels_from_config(&config).ok_or_else(|| {
        EngineError::model(
            &name,
            "config.json has no id2label: is this a fine-tuned classifier?",
        )
    })?;
    let multi_label = config.get("problem_type").and_then(Value::as_str) == Some(MULTI_LABEL);
    Ok((labels, multi_label))
}

fn read_config(dir: &Path, name: &str) -> Result<Value> {
    let text = std::fs::read_to_string(dir.join("config.json"))
        .map_err(|e| EngineError::model(name, format!("cannot read config.json: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| EngineError::model(name, format!("config.json is not valid JSON: {e}")))
}

fn labels_from_config(config: &Value) -> Option<Vec<String>> {
    let map = config.get("id2label")?.as_object()?;
    let mut pairs: Vec<(usize, String)> = map
        .iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
        .collect();
    pairs.sort();
    let ordered = pairs.iter().enumerate().all(|(i, (k, _))| i == *k);
    (ordered && !pairs.is_empty()).then(|| pairs.into_iter().map(|(_, v)| v).collect())
}
