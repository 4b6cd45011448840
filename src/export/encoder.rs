//! The ONNX graph of a fine-tuned BERT-family or DistilBERT classifier, node for node
//! what the engine's `model/bert.rs` and `model/distilbert.rs` compute in eval mode:
//! embeddings, post-norm encoder blocks, and transformers' head on the first token (or
//! Dialect's mean-pooling head). Linear layers of the encoder are f32 or int8
//! (`layers.rs`).

use super::graph::Graph;
use super::layers::{self, Weights};
use super::proto::Attribute;
use crate::error::{EngineError, Result};
use crate::model::bert::{BertConfig, Family};
use crate::model::distilbert::DistilBertConfig;
use crate::model::layers::Activation;
use candle_core::Tensor;
use std::collections::HashMap;

/// The encoder's shape, whatever the family calls its fields.
pub struct Shape {
    pub hidden: usize,
    pub heads: usize,
    pub layers: usize,
    pub eps: f64,
    pub activation: Activation,
}

/// How a family numbers positions and which head it carries.
pub enum Kind {
    /// BERT: positions from 0, token type 0 added, pooler + tanh + classifier.
    Bert,
    /// RoBERTa / XLM-R: positions after the padding id, dense + tanh + out_proj.
    Roberta { padding_idx: i64 },
    /// DistilBERT: positions from 0, pre_classifier + ReLU + classifier.
    DistilBert,
}

impl Kind {
    fn prefix(&self) -> &'static str {
        match self {
            Kind::Bert => "bert",
            Kind::Roberta { .. } => "roberta",
            Kind::DistilBert => "distilbert",
        }
    }
}

/// What the graph is built from: the family, its shape, and every weight by its
/// transformers name.
pub struct Encoder<'a> {
    pub kind: Kind,
    pub shape: Shape,
    pub weights: &'a HashMap<String, Tensor>,
    /// Dialect's mean-pooling head (`dialect_head`) instead of transformers' head.
    pub mean_pooling: bool,
    /// The model (its folder) named in errors.
    pub model: String,
}

impl Encoder<'_> {
    /// A BERT or RoBERTa-family config's shape and kind.
    pub fn bert_shape(cfg: &BertConfig, family: Family) -> Result<(Shape, Kind)> {
        let kind = match family {
            Family::Bert => Kind::Bert,
            Family::Roberta => Kind::Roberta {
                padding_idx: i64::from(cfg.pad_token_id.unwrap_or(1)),
            },
        };
        Ok((
            Shape {
                hidden: cfg.hidden_size,
                heads: cfg.num_attention_heads,
                layers: cfg.num_hidden_layers,
                eps: cfg.layer_norm_eps,
                activation: activation(&cfg.hidden_act)?,
            },
            kind,
        ))
    }

    /// A DistilBERT config's shape.
    pub fn distilbert_shape(cfg: &DistilBertConfig) -> Result<Shape> {
        Ok(Shape {
            hidden: cfg.dim,
            heads: cfg.n_heads,
            layers: cfg.n_layers,
            eps: 1e-12,
            activation: activation(&cfg.activation)?,
        })
    }

    /// Add the network to `g`: from `input_ids` and `attention_mask` (int64,
    /// `(batch, sequence)`) to the logits `(batch, labels)`, whose name it returns.
    pub fn build(&self, g: &mut Graph, input_ids: &str, mask: &str, int8: bool) -> Result<String> {
        let b = Builder {
            enc: self,
            w: Weights {
                map: self.weights,
                model: &self.model,
            },
            int8,
        };
        let x = b.embeddings(g, input_ids)?;
        let bias = layers::attention_bias(g, mask);
        let mut x = x;
        for i in 0..self.shape.layers {
            x = b.block(g, &x, &bias, i)?;
        }
        b.head(g, &x, mask)
    }
}

/// The activation transformers calls `name`.
pub fn activation(name: &str) -> Result<Activation> {
    Activation::parse(name)
        .ok_or_else(|| EngineError::Config(format!("unsupported activation '{name}'")))
}

/// The weight names of one encoder block.
struct BlockNames {
    q: String,
    k: String,
    v: String,
    attn_out: String,
    attn_norm: String,
    ffn_in: String,
    ffn_out: String,
    out_norm: String,
}

impl BlockNames {
    fn of(kind: &Kind, i: usize) -> Self {
        let p = kind.prefix();
        match kind {
            Kind::DistilBert => {
                let n = format!("{p}.transformer.layer.{i}");
                Self {
                    q: format!("{n}.attention.q_lin"),
                    k: format!("{n}.attention.k_lin"),
                    v: format!("{n}.attention.v_lin"),
                    attn_out: format!("{n}.attention.out_lin"),
                    attn_norm: format!("{n}.sa_layer_norm"),
                    ffn_in: format!("{n}.ffn.lin1"),
                    ffn_out: format!("{n}.ffn.lin2"),
                    out_norm: format!("{n}.output_layer_norm"),
                }
            }
            Kind::Bert | Kind::Roberta { .. } => {
                let n = format!("{p}.encoder.layer.{i}");
                Self {
                    q: format!("{n}.attention.self.query"),
                    k: format!("{n}.attention.self.key"),
                    v: format!("{n}.attention.self.value"),
                    attn_out: format!("{n}.attention.output.dense"),
                    attn_norm: format!("{n}.attention.output.LayerNorm"),
                    ffn_in: format!("{n}.intermediate.dense"),
                    ffn_out: format!("{n}.output.dense"),
                    out_norm: format!("{n}.output.LayerNorm"),
                }
            }
        }
    }
}

struct Builder<'a> {
    enc: &'a Encoder<'a>,
    w: Weights<'a>,
    int8: bool,
}

impl Builder<'_> {
    /// Word + position (+ BERT's token type 0) embeddings, then their layer norm.
    fn embeddings(&self, g: &mut Graph, input_ids: &str) -> Result<String> {
        let p = self.enc.kind.prefix();
        let word = self
            .w
            .initializer(g, &format!("{p}.embeddings.word_embeddings.weight"))?;
        let x = g.op("Gather", &[&word, input_ids], &[]);
        let table = self
            .w
            .initializer(g, &format!("{p}.embeddings.position_embeddings.weight"))?;
        let positions = match self.enc.kind {
            Kind::Roberta { padding_idx } => {
                // transformers' create_position_ids_from_input_ids: the n-th real token
                // at padding_idx + n, padding at padding_idx.
                let pad = g.ints(&[], &[padding_idx]);
                let is_pad = g.op("Equal", &[input_ids, &pad], &[]);
                let real = g.op("Not", &[&is_pad], &[]);
                // Counted in f32 (exact below 2^24): tract's CumSum takes no int64.
                let real = g.op("Cast", &[&real], &[("to", Attribute::Int(1))]);
                let axis = g.ints(&[], &[1]);
                let count = g.op("CumSum", &[&real, &axis], &[]);
                let counted = g.op("Mul", &[&count, &real], &[]);
                let counted = g.op("Cast", &[&counted], &[("to", Attribute::Int(7))]);
                let ids = g.op("Add", &[&counted, &pad], &[]);
                g.op("Gather", &[&table, &ids], &[])
            }
            Kind::Bert | Kind::DistilBert => {
                // The table's first `sequence` rows, added to every row of the batch.
                let len = layers::sequence_length(g, input_ids);
                let zero = g.ints(&[1], &[0]);
                g.op("Slice", &[&table, &zero, &len, &zero], &[])
            }
        };
        let mut x = g.op("Add", &[&x, &positions], &[]);
        if let Kind::Bert | Kind::Roberta { .. } = self.enc.kind {
            // Every token's type is 0 (one text per row): its embedding's first row.
            let (dims, values) = self
                .w
                .get(&format!("{p}.embeddings.token_type_embeddings.weight"))?;
            let hidden = dims.get(1).copied().unwrap_or(0);
            let row = g.floats(
                "token_type_0",
                &[hidden],
                &values[..hidden.min(values.len())],
            );
            x = g.op("Add", &[&x, &row], &[]);
        }
        self.layer_norm(g, &x, &format!("{p}.embeddings.LayerNorm"))
    }

    fn layer_norm(&self, g: &mut Graph, x: &str, name: &str) -> Result<String> {
        self.w.layer_norm(g, x, name, self.enc.shape.eps)
    }

    /// One post-norm block: self-attention, residual, norm; feed-forward, residual, norm.
    fn block(&self, g: &mut Graph, x: &str, bias: &str, i: usize) -> Result<String> {
        let n = BlockNames::of(&self.enc.kind, i);
        let s = &self.enc.shape;
        let q = self.w.linear(g, x, &n.q, self.int8)?;
        let k = self.w.linear(g, x, &n.k, self.int8)?;
        let v = self.w.linear(g, x, &n.v, self.int8)?;
        let head_dim = s.hidden / s.heads;
        let [q, k, v] = [q, k, v].map(|t| layers::split_heads(g, &t, s.heads, head_dim));
        let ctx = layers::attention(g, &q, &k, &v, bias, head_dim);
        let attn = self.w.linear(g, &ctx, &n.attn_out, self.int8)?;
        let attn = g.op("Add", &[&attn, x], &[]);
        let attn = self.layer_norm(g, &attn, &n.attn_norm)?;
        let h = self.w.linear(g, &attn, &n.ffn_in, self.int8)?;
        let h = layers::activate(g, &h, s.activation);
        let out = self.w.linear(g, &h, &n.ffn_out, self.int8)?;
        let out = g.op("Add", &[&out, &attn], &[]);
        self.layer_norm(g, &out, &n.out_norm)
    }

    /// Logits from the token vectors: transformers' head on the first token, or the
    /// mean of the real tokens through `dialect_head`. Heads stay f32.
    fn head(&self, g: &mut Graph, x: &str, mask: &str) -> Result<String> {
        if self.enc.mean_pooling {
            let mean = layers::masked_mean(g, x, mask);
            return self.w.linear(g, &mean, "dialect_head", false);
        }
        let zero = g.ints(&[], &[0]);
        let first = g.op("Gather", &[x, &zero], &[("axis", Attribute::Int(1))]);
        let (dense, out, squash) = match self.enc.kind {
            Kind::Bert => ("bert.pooler.dense", "classifier", "Tanh"),
            Kind::Roberta { .. } => ("classifier.dense", "classifier.out_proj", "Tanh"),
            Kind::DistilBert => ("pre_classifier", "classifier", "Relu"),
        };
        let pooled = self.w.linear(g, &first, dense, false)?;
        let pooled = g.op(squash, &[&pooled], &[]);
        self.w.linear(g, &pooled, out, false)
    }
}
