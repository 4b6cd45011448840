//! BERT encoder (incl. MiniLM-style BERT checkpoints) and transformers'
//! `BertForSequenceClassification` head, with weight names identical to transformers'.

use super::layers::{residual, Activation, Embedding, LayerNorm, Linear, Mode, RowLayout};
use super::params::ParamLoader;
use super::Batch;
use crate::error::{EngineError, Result};
use candle_core::{DType, Tensor};
use serde::Deserialize;

/// The fields of a BERT config.json that shape the network.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default)]
    pub classifier_dropout: Option<f64>,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_type_vocab() -> usize {
    2
}
fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_eps() -> f64 {
    1e-12
}
fn default_init_range() -> f64 {
    0.02
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

/// BERT with pooler and a sequence-classification head.
pub struct BertClassifier {
    cfg: BertConfig,
    activation: Activation,
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    pooler: Linear,
    classifier: Linear,
}

impl BertClassifier {
    /// Build from config and checkpoint. The pooler and head are loaded when present,
    /// else initialised as transformers does.
    pub fn load(cfg: BertConfig, p: &mut ParamLoader, num_labels: usize) -> Result<Self> {
        let activation = Activation::parse(&cfg.hidden_act).ok_or_else(|| {
            EngineError::Config(format!("unsupported hidden_act '{}'", cfg.hidden_act))
        })?;
        if let Some(kind) = cfg.position_embedding_type.as_deref() {
            if kind != "absolute" {
                return Err(EngineError::Config(format!(
                    "position_embedding_type '{kind}' is not supported (only 'absolute')"
                )));
            }
        }
        let h = cfg.hidden_size;
        if cfg.num_attention_heads == 0 || !h.is_multiple_of(cfg.num_attention_heads) {
            return Err(EngineError::Config(format!(
                "hidden_size {h} is not divisible by num_attention_heads {}",
                cfg.num_attention_heads
            )));
        }
        let eps = cfg.layer_norm_eps;
        let word = Embedding::load(p, "bert.embeddings.word_embeddings", cfg.vocab_size, h)?;
        let position = Embedding::load(
            p,
            "bert.embeddings.position_embeddings",
            cfg.max_position_embeddings,
            h,
        )?;
        let token_type = Embedding::load(
            p,
            "bert.embeddings.token_type_embeddings",
            cfg.type_vocab_size,
            h,
        )?;
        let emb_norm = LayerNorm::load(p, "bert.embeddings.LayerNorm", h, eps)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let n = format!("bert.encoder.layer.{i}");
            layers.push(Layer {
                query: Linear::load(p, &format!("{n}.attention.self.query"), h, h)?,
                key: Linear::load(p, &format!("{n}.attention.self.key"), h, h)?,
                value: Linear::load(p, &format!("{n}.attention.self.value"), h, h)?,
                attn_out: Linear::load(p, &format!("{n}.attention.output.dense"), h, h)?,
                attn_norm: LayerNorm::load(p, &format!("{n}.attention.output.LayerNorm"), h, eps)?,
                intermediate: Linear::load(
                    p,
                    &format!("{n}.intermediate.dense"),
                    h,
                    cfg.intermediate_size,
                )?,
                output: Linear::load(p, &format!("{n}.output.dense"), cfg.intermediate_size, h)?,
                out_norm: LayerNorm::load(p, &format!("{n}.output.LayerNorm"), h, eps)?,
            });
        }
        let std = cfg.initializer_range;
        let pooler = Linear::load_or_init(p, "bert.pooler.dense", h, h, std)?;
        let classifier = Linear::load_or_init(p, "classifier", h, num_labels, std)?;
        Ok(Self {
            cfg,
            activation,
            word,
            position,
            token_type,
            emb_norm,
            layers,
            pooler,
            classifier,
        })
    }

    /// Compute the encoder's linear layers in int8 from now on (CPU inference only);
    /// the head stays f32.
    pub fn quantize(&mut self) -> Result<()> {
        for layer in &mut self.layers {
            layer.query.quantize()?;
            layer.key.quantize()?;
            layer.value.quantize()?;
            layer.attn_out.quantize()?;
            layer.intermediate.quantize()?;
            layer.output.quantize()?;
        }
        Ok(())
    }

    /// Largest sequence length the position table allows.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Width of the token vectors.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Logits `(batch, labels)` in f32 from transformers' head (pooler on [CLS]).
    pub fn forward(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        let first = self.encode_rows(batch, mode, dtype, true)?;
        let pooled = self.pooler.forward(&first, dtype)?.tanh()?;
        let hidden = self.cfg.hidden_dropout_prob;
        let pooled = mode.dropout(&pooled, self.cfg.classifier_dropout.unwrap_or(hidden))?;
        Ok(self
            .classifier
            .forward(&pooled, dtype)?
            .to_dtype(DType::F32)?)
    }

    /// The encoder's token vectors `(batch, len, hidden)` in f32; matrix products run
    /// in `dtype` (f32 or bf16), the residual stream and layer norms in f32.
    pub fn encode(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        self.encode_rows(batch, mode, dtype, false)
    }

    /// `encode`, or with `first_only` just the first token's vector `(batch, 1, hidden)`:
    /// the last layer then computes only that row (its keys and values still span
    /// every token), the same numbers for ~1/6 less work in a 6-layer model.
    fn encode_rows(
        &self,
        batch: &Batch,
        mode: &Mode,
        dtype: DType,
        first_only: bool,
    ) -> Result<Tensor> {
        let layout = RowLayout::of(batch)?;
        let positions = layout.positions(batch)?;
        let x = self
            .word
            .forward(&batch.input_ids)?
            .add(&self.position.forward(&positions)?)?
            .add(&self.token_type.forward(&batch.token_type_ids)?)?;
        let hidden = self.cfg.hidden_dropout_prob;
        let mut x = mode.dropout(&self.emb_norm.forward(&x)?, hidden)?;
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let first = first_only && i == last;
            let rows = layout.query_rows(&x, first)?;
            let xc = x.to_dtype(dtype)?;
            let ctx = layout.attend(
                &layer.query.forward(&rows.to_dtype(dtype)?, dtype)?,
                &layer.key.forward(&xc, dtype)?,
                &layer.value.forward(&xc, dtype)?,
                self.cfg.num_attention_heads,
                self.cfg.attention_probs_dropout_prob,
                mode,
                first,
            )?;
            let attn = mode.dropout(&layer.attn_out.forward(&ctx, dtype)?, hidden)?;
            let attn = layer.attn_norm.forward(&residual(&attn, &rows)?)?;
            let inter = layer
                .intermediate
                .forward_activated(&attn, dtype, self.activation)?;
            let out = mode.dropout(&layer.output.forward(&inter, dtype)?, hidden)?;
            x = layer.out_norm.forward(&residual(&out, &attn)?)?;
        }
        if first_only {
            layout.first_tokens(&x)
        } else {
            Ok(x)
        }
    }
}
