//! The ONNX graph of a fine-tuned DeBERTa-v2/v3 classifier, node for node what
//! `model/deberta.rs` computes in eval mode: word (+ position, + token type 0)
//! embeddings and their norm; post-norm blocks whose attention adds to `q·kᵀ` the
//! disentangled terms read from the relative-position table (content-to-position,
//! position-to-content); `ContextPooler` on the first token then `classifier` (or
//! Dialect's mean-pooling head). Which table row and score each (query, key) pair reads
//! depends only on the positions, so the indices are computed here for the longest
//! input, kept as int64 initializers and sliced to `(sequence, sequence)` at run time.

use super::encoder::activation;
use super::graph::Graph;
use super::layers::{self, Weights};
use super::proto::Attribute;
use crate::error::{EngineError, Result};
use crate::model::deberta::DebertaConfig;

/// What the graph is built from: the config and every weight by its transformers name.
pub struct Deberta<'a> {
    pub cfg: DebertaConfig,
    pub weights: Weights<'a>,
    /// Dialect's mean-pooling head (`dialect_head`) instead of transformers' head.
    pub mean_pooling: bool,
}

/// The relative-position rows every query reads `(1, rows, hidden)`, normalised as
/// the config asks, and each disentangled term's score index `(sequence, sequence)`.
struct Relative {
    window: String,
    c2p: Option<String>,
    p2c: Option<String>,
}

impl Deberta<'_> {
    /// Add the network to `g`: from `input_ids` and `attention_mask` (int64,
    /// `(batch, sequence)`) to the logits `(batch, labels)`, whose name it returns.
    pub fn build(&self, g: &mut Graph, input_ids: &str, mask: &str, int8: bool) -> Result<String> {
        let mut x = self.embeddings(g, input_ids)?;
        let bias = layers::attention_bias(g, mask);
        let relative = match self.cfg.relative_attention {
            true => Some(self.relative(g, input_ids)?),
            false => None,
        };
        for i in 0..self.cfg.num_hidden_layers {
            x = self.block(g, &x, &bias, relative.as_ref(), i, int8)?;
        }
        self.head(g, &x, mask)
    }

    /// Word (+ position, + token type 0) embeddings, then their layer norm.
    fn embeddings(&self, g: &mut Graph, input_ids: &str) -> Result<String> {
        let w = &self.weights;
        let word = w.initializer(g, "deberta.embeddings.word_embeddings.weight")?;
        let mut x = g.op("Gather", &[&word, input_ids], &[]);
        if self.cfg.position_biased_input {
            // The table's first `sequence` rows, added to every row of the batch.
            let table = w.initializer(g, "deberta.embeddings.position_embeddings.weight")?;
            let len = layers::sequence_length(g, input_ids);
            let zero = g.ints(&[1], &[0]);
            let rows = g.op("Slice", &[&table, &zero, &len, &zero], &[]);
            x = g.op("Add", &[&x, &rows], &[]);
        }
        if self.cfg.type_vocab_size > 0 {
            // Every token's type is 0 (one text per row): the table's first row.
            let table = w.initializer(g, "deberta.embeddings.token_type_embeddings.weight")?;
            let zero = g.ints(&[], &[0]);
            let row = g.op("Gather", &[&table, &zero], &[]);
            x = g.op("Add", &[&x, &row], &[]);
        }
        w.layer_norm(
            g,
            &x,
            "deberta.embeddings.LayerNorm",
            self.cfg.layer_norm_eps,
        )
    }

    /// The relative-position rows and score indices for inputs up to the model's
    /// longest (`max_position_embeddings`), the indices sliced to the sequence.
    fn relative(&self, g: &mut Graph, input_ids: &str) -> Result<Relative> {
        let cfg = &self.cfg;
        let longest = cfg.max_position_embeddings;
        let queries: Vec<usize> = (0..longest).collect();
        let gather = cfg.relative_positions().gather(&queries, longest);
        let name = "deberta.encoder.rel_embeddings.weight";
        let (_, table) = self.weights.get(name)?;
        let hidden = cfg.hidden_size;
        let rows = table
            .get(gather.first * hidden..(gather.first + gather.rows) * hidden)
            .ok_or_else(|| {
                EngineError::model(
                    self.weights.model,
                    format!(
                        "'{name}' has fewer than the {} rows the relative positions read",
                        gather.first + gather.rows
                    ),
                )
            })?;
        let window = g.floats("rel_embeddings", &[1, gather.rows, hidden], rows);
        let window = match cfg.normalises_relative_table() {
            true => self.weights.layer_norm(
                g,
                &window,
                "deberta.encoder.LayerNorm",
                cfg.layer_norm_eps,
            )?,
            false => window,
        };
        let len = layers::sequence_length(g, input_ids);
        let ends = g.op("Concat", &[&len, &len], &[("axis", Attribute::Int(0))]);
        let starts = g.ints(&[2], &[0, 0]);
        let axes = g.ints(&[2], &[0, 1]);
        let mut index = |flat: &[u32]| {
            let values: Vec<i64> = flat.iter().map(|&i| i64::from(i)).collect();
            let all = g.ints(&[longest, longest], &values);
            g.op("Slice", &[&all, &starts, &ends, &axes], &[])
        };
        let (c2p, p2c) = cfg.disentangled_terms();
        Ok(Relative {
            window,
            c2p: c2p.then(|| index(&gather.c2p)),
            p2c: p2c.then(|| index(&gather.p2c)),
        })
    }

    /// `(batch, sequence, hidden)` → `(batch, heads, sequence, head_dim)`.
    fn split_heads(&self, g: &mut Graph, x: &str) -> String {
        let heads = self.cfg.num_attention_heads;
        layers::split_heads(g, x, heads, self.cfg.hidden_size / heads)
    }

    /// One disentangled term: `content` `(batch, heads, sequence, head_dim)` against
    /// the relative-position rows through the linear layer `projection`, each (query,
    /// key) pair's score picked by `index`: `(batch, heads, sequence, sequence)`.
    fn term(
        &self,
        g: &mut Graph,
        relative: &Relative,
        content: &str,
        projection: &str,
        index: &str,
        int8: bool,
    ) -> Result<String> {
        let positions = self.weights.linear(g, &relative.window, projection, int8)?;
        let positions = self.split_heads(g, &positions);
        let positions = transpose_last(g, &positions);
        let scores = g.op("MatMul", &[content, &positions], &[]);
        let flat = g.ints(&[3], &[0, 0, -1]);
        let flat = g.op("Reshape", &[&scores, &flat], &[]);
        Ok(g.op("Gather", &[&flat, index], &[("axis", Attribute::Int(2))]))
    }

    /// One post-norm block: disentangled self-attention, residual, norm;
    /// feed-forward, residual, norm.
    fn block(
        &self,
        g: &mut Graph,
        x: &str,
        bias: &str,
        relative: Option<&Relative>,
        i: usize,
        int8: bool,
    ) -> Result<String> {
        let (w, cfg) = (&self.weights, &self.cfg);
        let n = format!("deberta.encoder.layer.{i}");
        let a = format!("{n}.attention.self");
        let (query, key) = (format!("{a}.query_proj"), format!("{a}.key_proj"));
        let q = w.linear(g, x, &query, int8)?;
        let k = w.linear(g, x, &key, int8)?;
        let v = w.linear(g, x, &format!("{a}.value_proj"), int8)?;
        let [q, k, v] = [q, k, v].map(|t| self.split_heads(g, &t));
        let kt = transpose_last(g, &k);
        let mut scores = g.op("MatMul", &[&q, &kt], &[]);
        if let Some(r) = relative {
            // Shared keys: the table goes through the content projections.
            let own = |name: &str| format!("{a}.{name}");
            if let Some(index) = &r.c2p {
                let projection = match cfg.share_att_key {
                    true => key.clone(),
                    false => own("pos_key_proj"),
                };
                let c2p = self.term(g, r, &q, &projection, index, int8)?;
                scores = g.op("Add", &[&scores, &c2p], &[]);
            }
            if let Some(index) = &r.p2c {
                let projection = match cfg.share_att_key {
                    true => query.clone(),
                    false => own("pos_query_proj"),
                };
                let p2c = self.term(g, r, &k, &projection, index, int8)?;
                scores = g.op("Add", &[&scores, &p2c], &[]);
            }
        }
        let scale = cfg.attention_scale() as f32;
        let ctx = layers::weigh_values(g, &scores, scale, bias, &v);
        let attn = w.linear(g, &ctx, &format!("{n}.attention.output.dense"), int8)?;
        let attn = g.op("Add", &[&attn, x], &[]);
        let eps = cfg.layer_norm_eps;
        let attn = w.layer_norm(g, &attn, &format!("{n}.attention.output.LayerNorm"), eps)?;
        let h = w.linear(g, &attn, &format!("{n}.intermediate.dense"), int8)?;
        let h = layers::activate(g, &h, activation(&cfg.hidden_act)?);
        let out = w.linear(g, &h, &format!("{n}.output.dense"), int8)?;
        let out = g.op("Add", &[&out, &attn], &[]);
        w.layer_norm(g, &out, &format!("{n}.output.LayerNorm"), eps)
    }

    /// Logits from the token vectors: `ContextPooler` (dense, activation) on the first
    /// token then `classifier`, or the mean of the real tokens through `dialect_head`.
    /// Heads stay f32.
    fn head(&self, g: &mut Graph, x: &str, mask: &str) -> Result<String> {
        let w = &self.weights;
        if self.mean_pooling {
            let mean = layers::masked_mean(g, x, mask);
            return w.linear(g, &mean, "dialect_head", false);
        }
        let zero = g.ints(&[], &[0]);
        let first = g.op("Gather", &[x, &zero], &[("axis", Attribute::Int(1))]);
        let pooled = w.linear(g, &first, "pooler.dense", false)?;
        let pooled = layers::activate(g, &pooled, activation(&self.cfg.pooler_hidden_act)?);
        w.linear(g, &pooled, "classifier", false)
    }
}

/// `(…, m, n)` → `(…, n, m)` for a 4-d tensor.
fn transpose_last(g: &mut Graph, x: &str) -> String {
    g.op(
        "Transpose",
        &[x],
        &[("perm", Attribute::Ints(vec![0, 1, 3, 2]))],
    )
}
