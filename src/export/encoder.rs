//! The ONNX graph of a fine-tuned BERT-family or DistilBERT classifier, node for node
//! what the engine's `model/bert.rs` and `model/distilbert.rs` compute in eval mode:
//! embeddings, post-norm encoder blocks, and transformers' head on the first token (or
//! Dialect's mean-pooling head). Linear layers of the encoder are f32, or int8 weights
//! with activations quantized at run time (onnxruntime's `quantize_dynamic` recipe).

use super::graph::Graph;
use super::proto::Attribute;
use crate::error::{EngineError, Result};
use crate::model::bert::{BertConfig, Family};
use crate::model::distilbert::DistilBertConfig;
use crate::model::layers::Activation;
use candle_core::{DType, Tensor};
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
        let b = Builder { enc: self, int8 };
        let x = b.embeddings(g, input_ids)?;
        let bias = attention_bias(g, mask);
        let mut x = x;
        for i in 0..self.shape.layers {
            x = b.block(g, &x, &bias, i)?;
        }
        b.head(g, &x, mask)
    }
}

fn activation(name: &str) -> Result<Activation> {
    Activation::parse(name)
        .ok_or_else(|| EngineError::Config(format!("unsupported activation '{name}'")))
}

/// The additive attention bias `(batch, 1, 1, sequence)`: 0 for tokens, -1e9 for
/// padding, as `model::layers::attention_bias` computes it.
fn attention_bias(g: &mut Graph, mask: &str) -> String {
    let keep = g.op("Cast", &[mask], &[("to", Attribute::Int(1))]);
    let one = g.scalar(1.0);
    let shifted = g.op("Sub", &[&keep, &one], &[]);
    let big = g.scalar(1e9);
    let bias = g.op("Mul", &[&shifted, &big], &[]);
    let axes = g.ints(&[2], &[1, 2]);
    g.op("Unsqueeze", &[&bias, &axes], &[])
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
    int8: bool,
}

impl Builder<'_> {
    /// A weight's shape and f32 values.
    fn weight(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let t = self.enc.weights.get(name).ok_or_else(|| {
            EngineError::model(&self.enc.model, format!("no weight '{name}' to export"))
        })?;
        let values = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        Ok((t.dims().to_vec(), values))
    }

    fn initializer(&self, g: &mut Graph, name: &str) -> Result<String> {
        let (dims, values) = self.weight(name)?;
        Ok(g.floats(name, &dims, &values))
    }

    /// Word + position (+ BERT's token type 0) embeddings, then their layer norm.
    fn embeddings(&self, g: &mut Graph, input_ids: &str) -> Result<String> {
        let p = self.enc.kind.prefix();
        let word = self.initializer(g, &format!("{p}.embeddings.word_embeddings.weight"))?;
        let x = g.op("Gather", &[&word, input_ids], &[]);
        let table = self.initializer(g, &format!("{p}.embeddings.position_embeddings.weight"))?;
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
                let len = g.op(
                    "Shape",
                    &[input_ids],
                    &[("start", Attribute::Int(1)), ("end", Attribute::Int(2))],
                );
                let zero = g.ints(&[1], &[0]);
                g.op("Slice", &[&table, &zero, &len, &zero], &[])
            }
        };
        let mut x = g.op("Add", &[&x, &positions], &[]);
        if let Kind::Bert | Kind::Roberta { .. } = self.enc.kind {
            // Every token's type is 0 (one text per row): its embedding's first row.
            let (dims, values) =
                self.weight(&format!("{p}.embeddings.token_type_embeddings.weight"))?;
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
        let scale = self.initializer(g, &format!("{name}.weight"))?;
        let bias = self.initializer(g, &format!("{name}.bias"))?;
        Ok(g.op(
            "LayerNormalization",
            &[x, &scale, &bias],
            &[
                ("axis", Attribute::Int(-1)),
                ("epsilon", Attribute::Float(self.enc.shape.eps as f32)),
            ],
        ))
    }

    /// `x · Wᵀ + b` for the linear layer `name` (weight `(out, in)` as transformers
    /// keeps it); int8 when `quantized`.
    fn linear(&self, g: &mut Graph, x: &str, name: &str, quantized: bool) -> Result<String> {
        let (dims, values) = self.weight(&format!("{name}.weight"))?;
        let [out_dim, in_dim] = dims[..] else {
            return Err(EngineError::model(
                &self.enc.model,
                format!("weight '{name}.weight' is not a matrix: shape {dims:?}"),
            ));
        };
        // (in, out), the layout MatMul takes.
        let mut transposed = vec![0f32; values.len()];
        for o in 0..out_dim {
            for i in 0..in_dim {
                transposed[i * out_dim + o] = values[o * in_dim + i];
            }
        }
        let product = if quantized {
            self.int8_matmul(g, x, name, &transposed, in_dim, out_dim)
        } else {
            let w = g.floats(&format!("{name}.weight"), &[in_dim, out_dim], &transposed);
            g.op("MatMul", &[x, &w], &[])
        };
        let bias = self.initializer(g, &format!("{name}.bias"))?;
        Ok(g.op("Add", &[&product, &bias], &[]))
    }

    /// `x · W` with `W` `(in, out)` quantized per output column (symmetric int8) and `x`
    /// quantized at run time (DynamicQuantizeLinear, uint8), accumulated in int32 and
    /// scaled back to f32.
    fn int8_matmul(
        &self,
        g: &mut Graph,
        x: &str,
        name: &str,
        w: &[f32],
        in_dim: usize,
        out_dim: usize,
    ) -> String {
        let scales: Vec<f32> = (0..out_dim)
            .map(|o| {
                let max = (0..in_dim)
                    .map(|i| w[i * out_dim + o].abs())
                    .fold(0.0, f32::max);
                if max > 0.0 {
                    max / 127.0
                } else {
                    1.0
                }
            })
            .collect();
        let q: Vec<i8> = w
            .iter()
            .enumerate()
            .map(|(k, v)| (v / scales[k % out_dim]).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let wq = g.int8s(&format!("{name}.weight_int8"), &[in_dim, out_dim], &q);
        let ws = g.floats(&format!("{name}.weight_scale"), &[out_dim], &scales);
        let quantized = g.op_n("DynamicQuantizeLinear", &[x], &[], 3);
        let (xq, xs, xz) = (&quantized[0], &quantized[1], &quantized[2]);
        let acc = g.op("MatMulInteger", &[xq, &wq, xz], &[]);
        let acc = g.op("Cast", &[&acc], &[("to", Attribute::Int(1))]);
        let scale = g.op("Mul", &[xs, &ws], &[]);
        g.op("Mul", &[&acc, &scale], &[])
    }

    /// `(batch, sequence, hidden)` → `(batch, heads, sequence, head_dim)`.
    fn split_heads(&self, g: &mut Graph, x: &str) -> String {
        let s = &self.enc.shape;
        let shape = g.ints(&[4], &[0, 0, s.heads as i64, (s.hidden / s.heads) as i64]);
        let x = g.op("Reshape", &[x, &shape], &[]);
        g.op(
            "Transpose",
            &[&x],
            &[("perm", Attribute::Ints(vec![0, 2, 1, 3]))],
        )
    }

    /// One post-norm block: self-attention, residual, norm; feed-forward, residual, norm.
    fn block(&self, g: &mut Graph, x: &str, bias: &str, i: usize) -> Result<String> {
        let n = BlockNames::of(&self.enc.kind, i);
        let s = &self.enc.shape;
        let q = self.linear(g, x, &n.q, self.int8)?;
        let k = self.linear(g, x, &n.k, self.int8)?;
        let v = self.linear(g, x, &n.v, self.int8)?;
        let (q, k, v) = (
            self.split_heads(g, &q),
            self.split_heads(g, &k),
            self.split_heads(g, &v),
        );
        let kt = g.op(
            "Transpose",
            &[&k],
            &[("perm", Attribute::Ints(vec![0, 1, 3, 2]))],
        );
        let scores = g.op("MatMul", &[&q, &kt], &[]);
        let scale = g.scalar(1.0 / ((s.hidden / s.heads) as f32).sqrt());
        let scores = g.op("Mul", &[&scores, &scale], &[]);
        let scores = g.op("Add", &[&scores, bias], &[]);
        let probs = g.op("Softmax", &[&scores], &[("axis", Attribute::Int(-1))]);
        let ctx = g.op("MatMul", &[&probs, &v], &[]);
        let ctx = g.op(
            "Transpose",
            &[&ctx],
            &[("perm", Attribute::Ints(vec![0, 2, 1, 3]))],
        );
        let merged = g.ints(&[3], &[0, 0, s.hidden as i64]);
        let ctx = g.op("Reshape", &[&ctx, &merged], &[]);
        let attn = self.linear(g, &ctx, &n.attn_out, self.int8)?;
        let attn = g.op("Add", &[&attn, x], &[]);
        let attn = self.layer_norm(g, &attn, &n.attn_norm)?;
        let h = self.linear(g, &attn, &n.ffn_in, self.int8)?;
        let h = self.activate(g, &h);
        let out = self.linear(g, &h, &n.ffn_out, self.int8)?;
        let out = g.op("Add", &[&out, &attn], &[]);
        self.layer_norm(g, &out, &n.out_norm)
    }

    fn activate(&self, g: &mut Graph, x: &str) -> String {
        match self.enc.shape.activation {
            Activation::Relu => g.op("Relu", &[x], &[]),
            Activation::Gelu => {
                // 0.5 · x · (1 + erf(x / √2))
                let root2 = g.scalar(std::f32::consts::SQRT_2);
                let scaled = g.op("Div", &[x, &root2], &[]);
                let erf = g.op("Erf", &[&scaled], &[]);
                let one = g.scalar(1.0);
                let shifted = g.op("Add", &[&erf, &one], &[]);
                let half = g.scalar(0.5);
                let halved = g.op("Mul", &[x, &half], &[]);
                g.op("Mul", &[&halved, &shifted], &[])
            }
            Activation::GeluTanh => {
                // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
                let cube = g.op("Mul", &[x, x], &[]);
                let cube = g.op("Mul", &[&cube, x], &[]);
                let c = g.scalar(0.044715);
                let cube = g.op("Mul", &[&cube, &c], &[]);
                let inner = g.op("Add", &[x, &cube], &[]);
                let k = g.scalar((2.0 / std::f32::consts::PI).sqrt());
                let inner = g.op("Mul", &[&inner, &k], &[]);
                let t = g.op("Tanh", &[&inner], &[]);
                let one = g.scalar(1.0);
                let shifted = g.op("Add", &[&t, &one], &[]);
                let half = g.scalar(0.5);
                let halved = g.op("Mul", &[x, &half], &[]);
                g.op("Mul", &[&halved, &shifted], &[])
            }
        }
    }

    /// Logits from the token vectors: transformers' head on the first token, or the
    /// mean of the real tokens through `dialect_head`. Heads stay f32.
    fn head(&self, g: &mut Graph, x: &str, mask: &str) -> Result<String> {
        if self.enc.mean_pooling {
            let keep = g.op("Cast", &[mask], &[("to", Attribute::Int(1))]);
            let axis = g.ints(&[1], &[2]);
            let keep3 = g.op("Unsqueeze", &[&keep, &axis], &[]);
            let kept = g.op("Mul", &[x, &keep3], &[]);
            let seq = g.ints(&[1], &[1]);
            let keepdims = [("keepdims", Attribute::Int(0))];
            let sum = g.op("ReduceSum", &[&kept, &seq], &keepdims);
            let count = g.op("ReduceSum", &[&keep3, &seq], &keepdims);
            let mean = g.op("Div", &[&sum, &count], &[]);
            return self.linear(g, &mean, "dialect_head", false);
        }
        let zero = g.ints(&[], &[0]);
        let first = g.op("Gather", &[x, &zero], &[("axis", Attribute::Int(1))]);
        let (dense, out, squash) = match self.enc.kind {
            Kind::Bert => ("bert.pooler.dense", "classifier", "Tanh"),
            Kind::Roberta { .. } => ("classifier.dense", "classifier.out_proj", "Tanh"),
            Kind::DistilBert => ("pre_classifier", "classifier", "Relu"),
        };
        let pooled = self.linear(g, &first, dense, false)?;
        let pooled = g.op(squash, &[&pooled], &[]);
        self.linear(g, &pooled, out, false)
    }
}
