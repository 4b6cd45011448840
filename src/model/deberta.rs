//! DeBERTa-v2 and DeBERTa-v3 (config.json `model_type` "deberta-v2") with transformers'
//! `DebertaV2ForSequenceClassification` head, weight names identical to transformers'.
//! Disentangled self-attention: content-to-content scores plus, over a shared table of
//! relative positions (log-bucketed, [`RelativePositions`]), content-to-position
//! (`c2p`) and position-to-content (`p2c`) scores; BERT's feed-forward and LayerNorm
//! layout; `ContextPooler` (dense and activation on [CLS]) then `classifier`. Padded
//! batches only: the relative terms need every row's own positions.

use super::layers::{
    residual, split_heads, Activation, Embedding, LayerNorm, Linear, Mode, RowLayout,
};
use super::params::ParamLoader;
use super::relative_position::{RelativeGather, RelativePositions};
use super::Batch;
use crate::error::{EngineError, Result};
use crate::kernels;
use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

/// The fields of a DeBERTa-v2 config.json that shape the network (transformers'
/// defaults where absent).
#[derive(Debug, Clone, Deserialize)]
pub struct DebertaConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub type_vocab_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default)]
    pub relative_attention: bool,
    #[serde(default = "unset")]
    pub max_relative_positions: i64,
    #[serde(default = "unset")]
    pub position_buckets: i64,
    #[serde(default = "default_true")]
    pub position_biased_input: bool,
    /// `["p2c", "c2p"]`, or the older `"p2c|c2p"`.
    #[serde(default)]
    pub pos_att_type: Option<PosAttType>,
    #[serde(default)]
    pub share_att_key: bool,
    /// "layer_norm" normalises the relative-position table; "none" leaves it.
    #[serde(default = "default_norm_rel_ebd")]
    pub norm_rel_ebd: String,
    #[serde(default)]
    pub conv_kernel_size: usize,
    #[serde(default)]
    pub embedding_size: Option<usize>,
    #[serde(default)]
    pub attention_head_size: Option<usize>,
    #[serde(default)]
    pub pooler_hidden_size: Option<usize>,
    #[serde(default = "default_act")]
    pub pooler_hidden_act: String,
    #[serde(default)]
    pub pooler_dropout: f64,
    /// The classifier's dropout; `hidden_dropout_prob` when absent.
    #[serde(default)]
    pub cls_dropout: Option<f64>,
}

/// config.json's `pos_att_type`: a list of terms or one `|`-separated string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PosAttType {
    List(Vec<String>),
    Joined(String),
}

impl PosAttType {
    fn terms(&self) -> Vec<String> {
        let raw: Vec<&str> = match self {
            Self::List(list) => list.iter().map(String::as_str).collect(),
            Self::Joined(joined) => joined.split('|').collect(),
        };
        raw.iter().map(|t| t.trim().to_lowercase()).collect()
    }
}

fn default_max_positions() -> usize {
    512
}
fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_eps() -> f64 {
    1e-7
}
fn default_init_range() -> f64 {
    0.02
}
fn unset() -> i64 {
    -1
}
fn default_true() -> bool {
    true
}
fn default_norm_rel_ebd() -> String {
    "none".into()
}

impl DebertaConfig {
    /// Whether `pos_att_type` names the content-to-position (`c2p`) and the
    /// position-to-content (`p2c`) term.
    pub fn disentangled_terms(&self) -> (bool, bool) {
        let terms = self
            .pos_att_type
            .as_ref()
            .map(PosAttType::terms)
            .unwrap_or_default();
        (
            terms.iter().any(|t| t == "c2p"),
            terms.iter().any(|t| t == "p2c"),
        )
    }

    /// Whether `norm_rel_ebd` layer-normalises the relative-position table.
    pub fn normalises_relative_table(&self) -> bool {
        self.norm_rel_ebd
            .split('|')
            .any(|t| t.trim().eq_ignore_ascii_case("layer_norm"))
    }

    /// How query-to-key distances map to rows of the relative-position table.
    pub fn relative_positions(&self) -> RelativePositions {
        RelativePositions::new(
            self.position_buckets,
            self.max_relative_positions,
            self.max_position_embeddings,
        )
    }

    /// The attention scores' scale: 1/√(head size · (1 + number of disentangled
    /// terms)), as transformers counts them (also without `relative_attention`).
    pub fn attention_scale(&self) -> f64 {
        let (c2p, p2c) = self.disentangled_terms();
        let head_size = self.hidden_size / self.num_attention_heads.max(1);
        let factor = 1 + usize::from(c2p) + usize::from(p2c);
        1.0 / ((head_size * factor) as f64).sqrt()
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    /// Projections of the relative-position table of their own (`share_att_key`
    /// false); else the query and key projections serve.
    pos_key: Option<Linear>,
    pos_query: Option<Linear>,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

/// The relative-position table and which disentangled terms read it.
struct Relative {
    positions: RelativePositions,
    table: Tensor,
    norm: Option<LayerNorm>,
    c2p: bool,
    p2c: bool,
}

impl Relative {
    /// The rows of the (normalised) table that `gather` reads, `(rows, hidden)`.
    fn window(&self, gather: &RelativeGather) -> Result<Tensor> {
        let rows = self.table.narrow(0, gather.first, gather.rows)?;
        match &self.norm {
            Some(norm) => norm.forward(&rows),
            None => Ok(rows),
        }
    }
}

/// One batch length's relative-position rows and score indices, for the layers that
/// compute every token and for a last layer that computes only the first.
struct Positions {
    window: Tensor,
    c2p: Tensor,
    p2c: Tensor,
}

impl Positions {
    fn new(relative: &Relative, queries: &[usize], keys: usize, device: &Device) -> Result<Self> {
        let gather = relative.positions.gather(queries, keys);
        Ok(Self {
            window: relative.window(&gather)?,
            c2p: Tensor::new(gather.c2p.as_slice(), device)?,
            p2c: Tensor::new(gather.p2c.as_slice(), device)?,
        })
    }
}

/// A DeBERTa-v2/v3 encoder with its sequence-classification head.
pub struct DebertaClassifier {
    cfg: DebertaConfig,
    activation: Activation,
    pooler_activation: Activation,
    word: Embedding,
    position: Option<Embedding>,
    token_type: Option<Embedding>,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    relative: Option<Relative>,
    /// 1/√(head size · (1 + number of disentangled terms)).
    scale: f64,
    pooler: Linear,
    classifier: Linear,
}

/// Reject what this implementation does not cover, naming the config field.
fn check_supported(cfg: &DebertaConfig) -> Result<()> {
    let h = cfg.hidden_size;
    let unsupported = |what: String| Err(EngineError::Config(what));
    if cfg.num_attention_heads == 0 || !h.is_multiple_of(cfg.num_attention_heads) {
        return unsupported(format!(
            "hidden_size {h} is not divisible by num_attention_heads {}",
            cfg.num_attention_heads
        ));
    }
    if cfg.conv_kernel_size > 0 {
        return unsupported(format!(
            "DeBERTa's convolution layer (config.json conv_kernel_size {}) is not supported; \
             DeBERTa-v3 checkpoints do not use it",
            cfg.conv_kernel_size
        ));
    }
    if let Some(size) = cfg.embedding_size.filter(|&s| s != h) {
        return unsupported(format!(
            "embedding_size {size} differs from hidden_size {h} (a projected embedding), \
             which is not supported"
        ));
    }
    if let Some(size) = cfg
        .attention_head_size
        .filter(|&s| s * cfg.num_attention_heads != h)
    {
        return unsupported(format!(
            "attention_head_size {size} × {} heads differs from hidden_size {h}, which is not \
             supported",
            cfg.num_attention_heads
        ));
    }
    if let Some(size) = cfg.pooler_hidden_size.filter(|&s| s != h) {
        return unsupported(format!(
            "pooler_hidden_size {size} differs from hidden_size {h}; transformers' ContextPooler \
             needs them equal"
        ));
    }
    if cfg.relative_attention && cfg.position_buckets == 1 {
        return unsupported("position_buckets 1 leaves no bucket on either side of 0".into());
    }
    Ok(())
}

impl DebertaClassifier {
    /// Build from config and checkpoint; the pooler and classifier are loaded when
    /// present, else initialised as transformers does (N(0, initializer_range), zero
    /// biases).
    pub fn load(cfg: DebertaConfig, p: &mut ParamLoader, num_labels: usize) -> Result<Self> {
        check_supported(&cfg)?;
        let parse = |name: &str, field: &str| {
            Activation::parse(name)
                .ok_or_else(|| EngineError::Config(format!("unsupported {field} '{name}'")))
        };
        let activation = parse(&cfg.hidden_act, "hidden_act")?;
        let pooler_activation = parse(&cfg.pooler_hidden_act, "pooler_hidden_act")?;
        let terms = cfg
            .pos_att_type
            .as_ref()
            .map(PosAttType::terms)
            .unwrap_or_default();
        if let Some(other) = terms.iter().find(|t| !["c2p", "p2c"].contains(&t.as_str())) {
            return Err(EngineError::Config(format!(
                "pos_att_type '{other}' is not supported (only 'c2p' and 'p2c')"
            )));
        }
        let (c2p, p2c) = cfg.disentangled_terms();
        let norms: Vec<String> = cfg
            .norm_rel_ebd
            .split('|')
            .map(|t| t.trim().to_lowercase())
            .collect();
        if let Some(other) = norms
            .iter()
            .find(|t| !["layer_norm", "none"].contains(&t.as_str()))
        {
            return Err(EngineError::Config(format!(
                "norm_rel_ebd '{other}' is not supported (only 'layer_norm' or 'none')"
            )));
        }

        let h = cfg.hidden_size;
        let eps = cfg.layer_norm_eps;
        let word = Embedding::load(p, "deberta.embeddings.word_embeddings", cfg.vocab_size, h)?;
        let position = match cfg.position_biased_input {
            true => Some(Embedding::load(
                p,
                "deberta.embeddings.position_embeddings",
                cfg.max_position_embeddings,
                h,
            )?),
            false => None,
        };
        let token_type = match cfg.type_vocab_size {
            0 => None,
            n => Some(Embedding::load(
                p,
                "deberta.embeddings.token_type_embeddings",
                n,
                h,
            )?),
        };
        let emb_norm = LayerNorm::load(p, "deberta.embeddings.LayerNorm", h, eps)?;
        let own_pos_proj = cfg.relative_attention && !cfg.share_att_key;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let n = format!("deberta.encoder.layer.{i}");
            let a = format!("{n}.attention.self");
            layers.push(Layer {
                query: Linear::load(p, &format!("{a}.query_proj"), h, h)?,
                key: Linear::load(p, &format!("{a}.key_proj"), h, h)?,
                value: Linear::load(p, &format!("{a}.value_proj"), h, h)?,
                pos_key: match own_pos_proj && c2p {
                    true => Some(Linear::load(p, &format!("{a}.pos_key_proj"), h, h)?),
                    false => None,
                },
                pos_query: match own_pos_proj && p2c {
                    true => Some(Linear::load(p, &format!("{a}.pos_query_proj"), h, h)?),
                    false => None,
                },
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
        let relative = match cfg.relative_attention {
            true => {
                let positions = cfg.relative_positions();
                let table = p.require(
                    "deberta.encoder.rel_embeddings.weight",
                    &[positions.table_rows(), h],
                )?;
                let norm = match cfg.normalises_relative_table() {
                    true => Some(LayerNorm::load(p, "deberta.encoder.LayerNorm", h, eps)?),
                    false => None,
                };
                Some(Relative {
                    positions,
                    table,
                    norm,
                    c2p,
                    p2c,
                })
            }
            false => None,
        };
        let scale = cfg.attention_scale();
        let std = cfg.initializer_range;
        Ok(Self {
            pooler: Linear::load_or_init(p, "pooler.dense", h, h, std)?,
            classifier: Linear::load_or_init(p, "classifier", h, num_labels, std)?,
            cfg,
            activation,
            pooler_activation,
            word,
            position,
            token_type,
            emb_norm,
            layers,
            relative,
            scale,
        })
    }

    /// Compute the encoder's linear layers in int8 from now on (CPU inference only);
    /// the relative-position table goes through the same (int8) projections, the
    /// pooler and classifier stay f32.
    pub fn quantize(&mut self) -> Result<()> {
        for layer in &mut self.layers {
            for linear in [
                &mut layer.query,
                &mut layer.key,
                &mut layer.value,
                &mut layer.attn_out,
                &mut layer.intermediate,
                &mut layer.output,
            ] {
                linear.quantize()?;
            }
            for linear in [&mut layer.pos_key, &mut layer.pos_query]
                .into_iter()
                .flatten()
            {
                linear.quantize()?;
            }
        }
        Ok(())
    }

    /// Longest input the model was trained for (`max_position_embeddings`).
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Width of the token vectors.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Logits `(batch, labels)` in f32: `ContextPooler` on the first token, dropout,
    /// `classifier`.
    pub fn forward(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        let first = self.encode_rows(batch, mode, dtype, true)?.squeeze(1)?;
        let context = mode.dropout(&first, self.cfg.pooler_dropout)?;
        let pooled = self
            .pooler
            .forward_activated(&context, dtype, self.pooler_activation)?;
        let p = self.cfg.cls_dropout.unwrap_or(self.cfg.hidden_dropout_prob);
        let logits = self.classifier.forward(&mode.dropout(&pooled, p)?, dtype)?;
        Ok(logits.to_dtype(DType::F32)?)
    }

    /// The encoder's token vectors `(batch, len, hidden)` in f32; matrix products run
    /// in `dtype` (f32 or bf16), the residual stream and layer norms in f32.
    pub fn encode(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        self.encode_rows(batch, mode, dtype, false)
    }

    /// `encode`, or with `first_only` just the first token's vector `(batch, 1,
    /// hidden)`: the last layer then computes only that query row (over every key),
    /// the same numbers for less work. Padding tokens attend to the real ones here
    /// (transformers masks their rows entirely); no real token reads them.
    fn encode_rows(
        &self,
        batch: &Batch,
        mode: &Mode,
        dtype: DType,
        first_only: bool,
    ) -> Result<Tensor> {
        let layout = RowLayout::of(batch)?;
        let RowLayout::Padded { bias } = &layout else {
            return Err(EngineError::Config(
                "DeBERTa takes padded batches, not padding-free ones (its relative positions \
                 are per row)"
                    .into(),
            ));
        };
        let mut x = self.word.forward(&batch.input_ids)?;
        if let Some(position) = &self.position {
            x = x.add(&position.forward(&layout.positions(batch)?)?)?;
        }
        if let Some(token_type) = &self.token_type {
            x = x.add(&token_type.forward(&batch.token_type_ids)?)?;
        }
        let hidden = self.cfg.hidden_dropout_prob;
        let mut x = mode.dropout(&self.emb_norm.forward(&x)?, hidden)?;

        let len = batch.input_ids.dim(1)?;
        let device = batch.input_ids.device();
        let all: Vec<usize> = (0..len).collect();
        let positions = match &self.relative {
            Some(r) => Some((
                Positions::new(r, &all, len, device)?,
                match first_only {
                    true => Some(Positions::new(r, &[0], len, device)?),
                    false => None,
                },
            )),
            None => None,
        };
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let first = first_only && i == last;
            let rows = match first {
                true => x.narrow(1, 0, 1)?,
                false => x.clone(),
            };
            let pos = positions
                .as_ref()
                .map(|(every, firsts)| match (first, firsts) {
                    (true, Some(f)) => f,
                    _ => every,
                });
            let ctx = self.attend(layer, &rows, &x, bias, pos, mode, dtype)?;
            let attn = mode.dropout(&layer.attn_out.forward(&ctx, dtype)?, hidden)?;
            let attn = layer.attn_norm.forward(&residual(&attn, &rows)?)?;
            let inter = layer
                .intermediate
                .forward_activated(&attn, dtype, self.activation)?;
            let out = mode.dropout(&layer.output.forward(&inter, dtype)?, hidden)?;
            x = layer.out_norm.forward(&residual(&out, &attn)?)?;
        }
        Ok(x)
    }

    /// Disentangled self-attention of the query `rows` over every token of `x`:
    /// `(batch, queries, hidden)` in `dtype`.
    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        layer: &Layer,
        rows: &Tensor,
        x: &Tensor,
        bias: &Tensor,
        positions: Option<&Positions>,
        mode: &Mode,
        dtype: DType,
    ) -> Result<Tensor> {
        let heads = self.cfg.num_attention_heads;
        let (b, lq, h) = rows.dims3()?;
        let l = x.dim(1)?;
        let xc = x.to_dtype(dtype)?;
        let q = split_heads(&layer.query.forward(&rows.to_dtype(dtype)?, dtype)?, heads)?;
        let k = split_heads(&layer.key.forward(&xc, dtype)?, heads)?;
        let v = split_heads(&layer.value.forward(&xc, dtype)?, heads)?;
        let mut scores = q.matmul(&k.t()?)?;
        if let (Some(relative), Some(pos)) = (&self.relative, positions) {
            let table = mode
                .dropout(&pos.window, self.cfg.hidden_dropout_prob)?
                .to_dtype(dtype)?
                .unsqueeze(0)?;
            // The table through a projection, heads split and repeated for every row:
            // `(batch, heads, rows, head size)`.
            let project = |linear: &Linear| -> Result<Tensor> {
                let t = split_heads(&linear.forward(&table, dtype)?, heads)?;
                let (_, hh, w, dh) = t.dims4()?;
                Ok(t.broadcast_as((b, hh, w, dh))?.contiguous()?)
            };
            // Pick each (query, key) pair's score from `(batch, heads, n, rows)`.
            let pick = |s: Tensor, index: &Tensor| -> Result<Tensor> {
                let (_, _, n, w) = s.dims4()?;
                Ok(s.reshape((b * heads, n * w))?
                    .index_select(index, 1)?
                    .reshape((b, heads, lq, l))?)
            };
            if relative.c2p {
                let pos_key = project(layer.pos_key.as_ref().unwrap_or(&layer.key))?;
                scores = (scores + pick(q.matmul(&pos_key.t()?)?, &pos.c2p)?)?;
            }
            if relative.p2c {
                let pos_query = project(layer.pos_query.as_ref().unwrap_or(&layer.query))?;
                scores = (scores + pick(k.matmul(&pos_query.t()?)?, &pos.p2c)?)?;
            }
        }
        let probs = kernels::masked_softmax(&scores, bias, self.scale)?;
        let probs = mode.dropout(&probs, self.cfg.attention_probs_dropout_prob)?;
        Ok(probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, lq, h))?)
    }
}
