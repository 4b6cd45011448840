//! DistilBERT encoder and transformers' `DistilBertForSequenceClassification` head,
//! with weight names identical to transformers'.

use super::layers::{residual, Activation, Embedding, LayerNorm, Linear, Mode, RowLayout};
use super::params::ParamLoader;
use super::Batch;
use crate::error::{EngineError, Result};
use candle_core::{DType, Tensor};
use serde::Deserialize;

/// The fields of a DistilBERT config.json that shape the network.
#[derive(Debug, Clone, Deserialize)]
pub struct DistilBertConfig {
    pub vocab_size: usize,
    pub dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub hidden_dim: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_activation")]
    pub activation: String,
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    #[serde(default = "default_dropout")]
    pub attention_dropout: f64,
    #[serde(default = "default_seq_classif_dropout")]
    pub seq_classif_dropout: f64,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
}

fn default_activation() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_seq_classif_dropout() -> f64 {
    0.2
}
fn default_init_range() -> f64 {
    0.02
}

const EPS: f64 = 1e-12;

struct Block {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    sa_norm: LayerNorm,
    lin1: Linear,
    lin2: Linear,
    out_norm: LayerNorm,
}

/// DistilBERT with a sequence-classification head.
pub struct DistilBertClassifier {
    cfg: DistilBertConfig,
    activation: Activation,
    word: Embedding,
    position: Embedding,
    emb_norm: LayerNorm,
    blocks: Vec<Block>,
    pre_classifier: Linear,
    classifier: Linear,
}

impl DistilBertClassifier {
    /// Build from config and checkpoint; the head is loaded when present with
    /// `num_labels` outputs, else initialised as transformers does.
    pub fn load(cfg: DistilBertConfig, p: &mut ParamLoader, num_labels: usize) -> Result<Self> {
        let activation = Activation::parse(&cfg.activation).ok_or_else(|| {
            EngineError::Config(format!("unsupported activation '{}'", cfg.activation))
        })?;
        if cfg.n_heads == 0 || !cfg.dim.is_multiple_of(cfg.n_heads) {
            return Err(EngineError::Config(format!(
                "dim {} is not divisible by n_heads {}",
                cfg.dim, cfg.n_heads
            )));
        }
        let d = cfg.dim;
        let word = Embedding::load(
            p,
            "distilbert.embeddings.word_embeddings",
            cfg.vocab_size,
            d,
        )?;
        let position = Embedding::load(
            p,
            "distilbert.embeddings.position_embeddings",
            cfg.max_position_embeddings,
            d,
        )?;
        let emb_norm = LayerNorm::load(p, "distilbert.embeddings.LayerNorm", d, EPS)?;
        let mut blocks = Vec::with_capacity(cfg.n_layers);
        for i in 0..cfg.n_layers {
            let n = format!("distilbert.transformer.layer.{i}");
            blocks.push(Block {
                q: Linear::load(p, &format!("{n}.attention.q_lin"), d, d)?,
                k: Linear::load(p, &format!("{n}.attention.k_lin"), d, d)?,
                v: Linear::load(p, &format!("{n}.attention.v_lin"), d, d)?,
                out: Linear::load(p, &format!("{n}.attention.out_lin"), d, d)?,
                sa_norm: LayerNorm::load(p, &format!("{n}.sa_layer_norm"), d, EPS)?,
                lin1: Linear::load(p, &format!("{n}.ffn.lin1"), d, cfg.hidden_dim)?,
                lin2: Linear::load(p, &format!("{n}.ffn.lin2"), cfg.hidden_dim, d)?,
                out_norm: LayerNorm::load(p, &format!("{n}.output_layer_norm"), d, EPS)?,
            });
        }
        let std = cfg.initializer_range;
        let pre_classifier = Linear::load_or_init(p, "pre_classifier", d, d, std)?;
        let classifier = Linear::load_or_init(p, "classifier", d, num_labels, std)?;
        Ok(Self {
            cfg,
            activation,
            word,
            position,
            emb_norm,
            blocks,
            pre_classifier,
            classifier,
        })
    }

    /// Compute the encoder's linear layers in int8 from now on (CPU inference only);
    /// the head stays f32.
    pub fn quantize(&mut self) -> Result<()> {
        for layer in &mut self.blocks {
            layer.q.quantize()?;
            layer.k.quantize()?;
            layer.v.quantize()?;
            layer.out.quantize()?;
            layer.lin1.quantize()?;
            layer.lin2.quantize()?;
        }
        Ok(())
    }

    /// Largest sequence length the position table allows.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Width of the token vectors.
    pub fn hidden_size(&self) -> usize {
        self.cfg.dim
    }

    /// Logits `(batch, labels)` in f32 from transformers' head (pre-classifier on [CLS]).
    pub fn forward(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        let first = self.encode_rows(batch, mode, dtype, true)?;
        let pooled = self.pre_classifier.forward(&first, dtype)?.relu()?;
        let pooled = mode.dropout(&pooled, self.cfg.seq_classif_dropout)?;
        Ok(self
            .classifier
            .forward(&pooled, dtype)?
            .to_dtype(DType::F32)?)
    }

    /// The encoder's token vectors `(batch, len, dim)` in f32; matrix products run in
    /// `dtype` (f32 or bf16), the residual stream and layer norms in f32.
    pub fn encode(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        self.encode_rows(batch, mode, dtype, false)
    }

    /// `encode`, or with `first_only` just the first token's vector `(batch, 1, dim)`:
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
            .add(&self.position.forward(&positions)?)?;
        let mut x = mode.dropout(&self.emb_norm.forward(&x)?, self.cfg.dropout)?;
        let last = self.blocks.len().saturating_sub(1);
        for (i, blk) in self.blocks.iter().enumerate() {
            let first = first_only && i == last;
            let rows = layout.query_rows(&x, first)?;
            let xc = x.to_dtype(dtype)?;
            let ctx = layout.attend(
                &blk.q.forward(&rows.to_dtype(dtype)?, dtype)?,
                &blk.k.forward(&xc, dtype)?,
                &blk.v.forward(&xc, dtype)?,
                self.cfg.n_heads,
                self.cfg.attention_dropout,
                mode,
                first,
            )?;
            let sa = blk
                .sa_norm
                .forward(&residual(&blk.out.forward(&ctx, dtype)?, &rows)?)?;
            let h = blk.lin1.forward_activated(&sa, dtype, self.activation)?;
            let ffn = mode.dropout(&blk.lin2.forward(&h, dtype)?, self.cfg.dropout)?;
            x = blk.out_norm.forward(&residual(&ffn, &sa)?)?;
        }
        if first_only {
            layout.first_tokens(&x)
        } else {
            Ok(x)
        }
    }
}
