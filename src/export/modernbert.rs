//! The ONNX graph of a fine-tuned ModernBERT classifier, node for node what the engine's
//! `model/modernbert.rs` computes in eval mode: token embeddings and their norm;
//! pre-norm layers whose queries and keys are turned by rotary positions (cos and sin
//! tables for every position up to `max_position_embeddings`, one pair per rotary base,
//! sliced to the sequence at run time), the global layers attending to the whole row
//! and the local ones to the tokens within half the window (a band built from the
//! positions at run time); a GeGLU feed-forward; the final norm; then transformers'
//! head (first-token or mean pooling, `head`: dense, activation, norm; `classifier`) or
//! Dialect's mean-pooling head. The encoder's linear layers are f32 or int8.

use super::encoder::activation;
use super::graph::Graph;
use super::layers::{self, Weights};
use super::proto::Attribute;
use crate::error::{EngineError, Result};
use crate::model::modernbert::{ModernBertConfig, Pooling, Rotary, FULL, SLIDING};
use candle_core::Device;

/// What the graph is built from: the config and every weight by its transformers name.
pub struct ModernBert<'a> {
    pub cfg: ModernBertConfig,
    pub weights: Weights<'a>,
    /// Dialect's mean-pooling head (`dialect_head`) instead of transformers' head.
    pub mean_pooling: bool,
}

/// What one kind of layer (global or local) attends with: its rotary cos and sin
/// `(sequence, head_dim)` and its additive attention bias.
struct Attending {
    cos: String,
    sin: String,
    bias: String,
}

impl ModernBert<'_> {
    /// Add the network to `g`: from `input_ids` and `attention_mask` (int64,
    /// `(batch, sequence)`) to the logits `(batch, labels)`, whose name it returns.
    pub fn build(&self, g: &mut Graph, input_ids: &str, mask: &str, int8: bool) -> Result<String> {
        let cfg = &self.cfg;
        let w = &self.weights;
        let eps = cfg.norm_eps;
        let mlp_activation = activation(&cfg.hidden_activation)?;
        let heads = cfg.num_attention_heads;
        let head_dim = cfg.hidden_size / heads.max(1);
        let len = layers::sequence_length(g, input_ids);
        let padding = layers::attention_bias(g, mask);
        // Indexed by `local`: each kind's tables and bias, added for the first layer of
        // that kind, taken out for each layer and put back after it.
        let mut prepared: [Option<Attending>; 2] = [None, None];

        let table = w.initializer(g, "model.embeddings.tok_embeddings.weight")?;
        let x = g.op("Gather", &[&table, input_ids], &[]);
        let mut x = w.layer_norm_without_bias(g, &x, "model.embeddings.norm", eps)?;
        for (i, local) in cfg.local_layers()?.into_iter().enumerate() {
            let n = format!("model.layers.{i}");
            let at = match prepared[usize::from(local)].take() {
                Some(at) => at,
                None => self.attending(g, local, &len, &padding, head_dim)?,
            };
            // Layer 0's input is the embeddings' norm: it has no attention norm.
            let normed = match i {
                0 => x.clone(),
                _ => w.layer_norm_without_bias(g, &x, &format!("{n}.attn_norm"), eps)?,
            };
            let [q, k, v] = self.split_product(g, &normed, &format!("{n}.attn.Wqkv"), int8)?;
            let [q, k, v] = [q, k, v].map(|t| layers::split_heads(g, &t, heads, head_dim));
            let q = rotate(g, &q, &at, head_dim);
            let k = rotate(g, &k, &at, head_dim);
            let ctx = layers::attention(g, &q, &k, &v, &at.bias, head_dim);
            let attn = w.product(g, &ctx, &format!("{n}.attn.Wo"), int8)?;
            x = g.op("Add", &[&x, &attn], &[]);
            prepared[usize::from(local)] = Some(at);

            let normed = w.layer_norm_without_bias(g, &x, &format!("{n}.mlp_norm"), eps)?;
            let [input, gate] = self.split_product(g, &normed, &format!("{n}.mlp.Wi"), int8)?;
            let input = layers::activate(g, &input, mlp_activation);
            let hidden = g.op("Mul", &[&input, &gate], &[]);
            let out = w.product(g, &hidden, &format!("{n}.mlp.Wo"), int8)?;
            x = g.op("Add", &[&x, &out], &[]);
        }
        let x = w.layer_norm_without_bias(g, &x, "model.final_norm", eps)?;
        self.head(g, &x, mask)
    }

    /// `x` through the bias-free linear layer `name` whose output is `N` equal parts
    /// side by side (ModernBERT's fused Wqkv, Wi's input and gate): one product each.
    fn split_product<const N: usize>(
        &self,
        g: &mut Graph,
        x: &str,
        name: &str,
        int8: bool,
    ) -> Result<[String; N]> {
        let weight = format!("{name}.weight");
        let (out_dim, in_dim, values) = self.weights.matrix(&weight)?;
        if out_dim == 0 || in_dim == 0 || !out_dim.is_multiple_of(N) {
            return Err(EngineError::model(
                self.weights.model,
                format!("weight '{weight}' has {out_dim} rows, not {N} equal parts"),
            ));
        }
        let part = out_dim / N;
        let mut parts = values.chunks(part * in_dim);
        Ok(std::array::from_fn(|p| {
            let rows = parts.next().unwrap_or_default();
            layers::matmul(g, x, &format!("{name}.{p}"), rows, part, in_dim, int8)
        }))
    }

    /// The rotary tables of a global or `local` layer sliced to the sequence `len`, and
    /// its attention bias: `padding`, and for a local layer the window besides.
    fn attending(
        &self,
        g: &mut Graph,
        local: bool,
        len: &str,
        padding: &str,
        head_dim: usize,
    ) -> Result<Attending> {
        let max = self.cfg.max_position_embeddings;
        let theta = self.cfg.rope_theta(if local { SLIDING } else { FULL })?;
        let (cos, sin) = Rotary::new(theta, head_dim).tables(max, &Device::Cpu)?;
        let zero = g.ints(&[1], &[0]);
        let mut sliced = |hint: &str, table: candle_core::Tensor| -> Result<String> {
            let values = table.flatten_all()?.to_vec1::<f32>()?;
            let table = g.floats(hint, &[max, head_dim], &values);
            Ok(g.op("Slice", &[&table, &zero, len, &zero], &[]))
        };
        let (cos, sin) = (sliced("rope_cos", cos)?, sliced("rope_sin", sin)?);
        let bias = if local {
            let window = self.window(g, len);
            g.op("Add", &[padding, &window], &[])
        } else {
            padding.to_string()
        };
        Ok(Attending { cos, sin, bias })
    }

    /// The local layers' band `(sequence, sequence)`: 0 where the query and key
    /// positions are at most half the window apart, -1e9 elsewhere (the engine's
    /// `window_bias`). Positions come from a table sliced to `len`, compared in f32
    /// (exact for positions below 2^24).
    fn window(&self, g: &mut Graph, len: &str) -> String {
        let max = self.cfg.max_position_embeddings;
        let positions: Vec<f32> = (0..max).map(|p| p as f32).collect();
        let table = g.floats("positions", &[max], &positions);
        let zero = g.ints(&[1], &[0]);
        let positions = g.op("Slice", &[&table, &zero, len, &zero], &[]);
        let rows = g.ints(&[1], &[1]);
        let queries = g.op("Unsqueeze", &[&positions, &rows], &[]);
        let distance = g.op("Sub", &[&queries, &positions], &[]);
        let distance = g.op("Abs", &[&distance], &[]);
        let reach = g.scalar((self.cfg.local_attention / 2) as f32);
        let far = g.op("Greater", &[&distance, &reach], &[]);
        let far = g.op("Cast", &[&far], &[("to", Attribute::Int(1))]);
        let big = g.scalar(-1e9);
        g.op("Mul", &[&far, &big], &[])
    }

    /// Logits from the final token vectors: transformers' head on the pooled vector
    /// (first token or mean), or the mean through `dialect_head`. Heads stay f32.
    fn head(&self, g: &mut Graph, x: &str, mask: &str) -> Result<String> {
        let w = &self.weights;
        if self.mean_pooling {
            let mean = layers::masked_mean(g, x, mask);
            return w.linear(g, &mean, "dialect_head", false);
        }
        let pooled = match self.cfg.classifier_pooling {
            Pooling::Cls => {
                let zero = g.ints(&[], &[0]);
                g.op("Gather", &[x, &zero], &[("axis", Attribute::Int(1))])
            }
            Pooling::Mean => layers::masked_mean(g, x, mask),
        };
        let dense = w.product(g, &pooled, "head.dense", false)?;
        let dense = layers::activate(g, &dense, activation(&self.cfg.classifier_activation)?);
        let normed = w.layer_norm_without_bias(g, &dense, "head.norm", self.cfg.norm_eps)?;
        w.linear(g, &normed, "classifier", false)
    }
}

/// `x (batch, heads, sequence, head_dim)` rotated: `x·cos + rotate_half(x)·sin`, where
/// `rotate_half` puts the negated second half before the first.
fn rotate(g: &mut Graph, x: &str, at: &Attending, head_dim: usize) -> String {
    let half = (head_dim / 2) as i64;
    let last = g.ints(&[1], &[-1]);
    let (start, middle, end) = (
        g.ints(&[1], &[0]),
        g.ints(&[1], &[half]),
        g.ints(&[1], &[2 * half]),
    );
    let first = g.op("Slice", &[x, &start, &middle, &last], &[]);
    let second = g.op("Slice", &[x, &middle, &end, &last], &[]);
    let second = g.op("Neg", &[&second], &[]);
    let rotated = g.op(
        "Concat",
        &[&second, &first],
        &[("axis", Attribute::Int(-1))],
    );
    let turned = g.op("Mul", &[x, &at.cos], &[]);
    let shifted = g.op("Mul", &[&rotated, &at.sin], &[]);
    g.op("Add", &[&turned, &shifted], &[])
}
