//! The BERT family's encoder and transformers' classification heads, with weight names
//! identical to transformers': BERT (incl. MiniLM-style BERT checkpoints) and RoBERTa /
//! XLM-RoBERTa, which share BERT's layers and differ only in how they number positions
//! and in their head.

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
    /// The padding token; RoBERTa numbers positions after it (transformers' default 1).
    #[serde(default)]
    pub pad_token_id: Option<u32>,
}

/// The members of the BERT family, which share its encoder layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// BERT: positions from 0; `BertForSequenceClassification`'s head (pooler dense and
    /// tanh on [CLS], then `classifier`).
    Bert,
    /// RoBERTa and XLM-RoBERTa: the n-th real token of a row at position
    /// `pad_token_id + n`, padding at `pad_token_id`; `RobertaClassificationHead` on `<s>`
    /// (`classifier.dense`, tanh, `classifier.out_proj`), no pooler.
    Roberta,
}

impl Family {
    /// The encoder's weight-name prefix in transformers' classifier.
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::Roberta => "roberta",
        }
    }
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

/// transformers' classification head of a family member.
enum Head {
    /// BERT: pooler dense + tanh on [CLS], dropout, `classifier`.
    Pooler { pooler: Linear, classifier: Linear },
    /// RoBERTa: dropout, `classifier.dense` + tanh on `<s>`, dropout, `classifier.out_proj`.
    Roberta { dense: Linear, out_proj: Linear },
}

/// A BERT-family encoder with its sequence-classification head.
pub struct BertClassifier {
    cfg: BertConfig,
    activation: Activation,
    /// RoBERTa's padding id, after which it numbers positions; `None`: from 0 (BERT).
    padding_idx: Option<u32>,
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    head: Head,
}

impl BertClassifier {
    /// Build the `family` member from config and checkpoint. The head (and BERT's
    /// pooler) are loaded when present, else initialised as transformers does.
    pub fn load(
        cfg: BertConfig,
        family: Family,
        p: &mut ParamLoader,
        num_labels: usize,
    ) -> Result<Self> {
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
        let padding_idx = match family {
            Family::Bert => None,
            Family::Roberta => Some(cfg.pad_token_id.unwrap_or(1)),
        };
        if let Some(pad) = padding_idx {
            if cfg.max_position_embeddings <= pad as usize + 1 {
                return Err(EngineError::Config(format!(
                    "max_position_embeddings {} leaves no position after pad_token_id {pad}",
                    cfg.max_position_embeddings
                )));
            }
        }
        let eps = cfg.layer_norm_eps;
        let pre = family.prefix();
        let word = Embedding::load(
            p,
            &format!("{pre}.embeddings.word_embeddings"),
            cfg.vocab_size,
            h,
        )?;
        let position = Embedding::load(
            p,
            &format!("{pre}.embeddings.position_embeddings"),
            cfg.max_position_embeddings,
            h,
        )?;
        let token_type = Embedding::load(
            p,
            &format!("{pre}.embeddings.token_type_embeddings"),
            cfg.type_vocab_size,
            h,
        )?;
        let emb_norm = LayerNorm::load(p, &format!("{pre}.embeddings.LayerNorm"), h, eps)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let n = format!("{pre}.encoder.layer.{i}");
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
        let head = match family {
            Family::Bert => Head::Pooler {
                pooler: Linear::load_or_init(p, "bert.pooler.dense", h, h, std)?,
                classifier: Linear::load_or_init(p, "classifier", h, num_labels, std)?,
            },
            Family::Roberta => Head::Roberta {
                dense: Linear::load_or_init(p, "classifier.dense", h, h, std)?,
                out_proj: Linear::load_or_init(p, "classifier.out_proj", h, num_labels, std)?,
            },
        };
        Ok(Self {
            cfg,
            activation,
            padding_idx,
            word,
            position,
            token_type,
            emb_norm,
            layers,
            head,
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

    /// Largest sequence length the position table allows (RoBERTa's first
    /// `pad_token_id + 1` positions are never a real token's).
    pub fn max_positions(&self) -> usize {
        let reserved = self.padding_idx.map_or(0, |pad| pad as usize + 1);
        self.cfg.max_position_embeddings.saturating_sub(reserved)
    }

    /// Width of the token vectors.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Logits `(batch, labels)` in f32 from transformers' head on the first token.
    pub fn forward(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        let first = self.encode_rows(batch, mode, dtype, true)?;
        let p = self
            .cfg
            .classifier_dropout
            .unwrap_or(self.cfg.hidden_dropout_prob);
        let logits = match &self.head {
            Head::Pooler { pooler, classifier } => {
                let pooled = mode.dropout(&pooler.forward(&first, dtype)?.tanh()?, p)?;
                classifier.forward(&pooled, dtype)?
            }
            Head::Roberta { dense, out_proj } => {
                let x = dense.forward(&mode.dropout(&first, p)?, dtype)?.tanh()?;
                out_proj.forward(&mode.dropout(&x, p)?, dtype)?
            }
        };
        Ok(logits.to_dtype(DType::F32)?)
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
        let positions = match self.padding_idx {
            None => layout.positions(batch)?,
            Some(pad) => layout.positions_after_padding(batch, pad)?,
        };
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
