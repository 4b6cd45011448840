//! ModernBERT's encoder and transformers' `ModernBertForSequenceClassification` head,
//! with weight names identical to transformers': rotary positions (one base for the
//! global layers, one for the local ones), pre-norm layers without biases, a GeGLU
//! feed-forward, every `global_attn_every_n_layers`-th layer attending to the whole row
//! and the others to a sliding window of `local_attention` tokens, a final norm, then
//! pooling (first token or mean), `head` (dense, activation, norm) and `classifier`.
//! Rows are padded (the window does not fit padding-free batches).

use super::layers::{
    attention_bias, attention_over_heads, masked_mean, residual, split_heads, Activation,
    Embedding, LayerNorm, Linear, Mode,
};
use super::params::{Init, ParamLoader};
use super::Batch;
use crate::error::{EngineError, Result};
use candle_core::{DType, Device, Tensor, D};
use serde::Deserialize;
use std::collections::HashMap;

/// The fields of a ModernBERT config.json that shape the network. Both config styles
/// are read: the hub's (`global_attn_every_n_layers`, `global_rope_theta`,
/// `local_rope_theta`) and transformers 5's (`layer_types`, `rope_parameters`).
#[derive(Debug, Clone, Deserialize)]
pub struct ModernBertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_act")]
    pub hidden_activation: String,
    #[serde(default = "default_act")]
    pub classifier_activation: String,
    #[serde(default = "default_eps")]
    pub norm_eps: f64,
    #[serde(default)]
    pub norm_bias: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    #[serde(default)]
    pub classifier_bias: bool,
    #[serde(default)]
    pub embedding_dropout: f64,
    #[serde(default)]
    pub attention_dropout: f64,
    #[serde(default)]
    pub mlp_dropout: f64,
    #[serde(default)]
    pub classifier_dropout: f64,
    /// The local layers' whole window: a token sees those within half of it each side.
    #[serde(default = "default_local_attention")]
    pub local_attention: usize,
    #[serde(default = "default_global_every")]
    pub global_attn_every_n_layers: usize,
    /// Per layer "full_attention" or "sliding_attention" (overrides the above).
    #[serde(default)]
    pub layer_types: Option<Vec<String>>,
    #[serde(default = "default_global_theta")]
    pub global_rope_theta: f64,
    #[serde(default = "default_local_theta")]
    pub local_rope_theta: f64,
    /// Per attention kind, its rotary base (overrides the two thetas above).
    #[serde(default)]
    pub rope_parameters: Option<HashMap<String, Option<RopeParameters>>>,
    #[serde(default)]
    pub classifier_pooling: Pooling,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default = "default_cutoff")]
    pub initializer_cutoff_factor: f64,
}

/// One attention kind's rotary settings in transformers 5's `rope_parameters`.
#[derive(Debug, Clone, Deserialize)]
pub struct RopeParameters {
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_type: Option<String>,
}

/// What the classification head reads from the token vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first token's vector (transformers' default).
    #[default]
    Cls,
    /// The mean of the real tokens' vectors.
    Mean,
}

fn default_max_positions() -> usize {
    8192
}
fn default_act() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-5
}
fn default_local_attention() -> usize {
    128
}
fn default_global_every() -> usize {
    3
}
fn default_global_theta() -> f64 {
    160_000.0
}
fn default_local_theta() -> f64 {
    10_000.0
}
fn default_init_range() -> f64 {
    0.02
}
fn default_cutoff() -> f64 {
    2.0
}

/// The `layer_types` name of a global layer.
pub const FULL: &str = "full_attention";
/// The `layer_types` name of a local (sliding-window) layer.
pub const SLIDING: &str = "sliding_attention";

impl ModernBertConfig {
    /// Whether each layer is local (a sliding window) rather than global.
    pub fn local_layers(&self) -> Result<Vec<bool>> {
        match &self.layer_types {
            Some(types) => {
                if types.len() != self.num_hidden_layers {
                    return Err(EngineError::Config(format!(
                        "config.json lists {} layer_types for {} layers",
                        types.len(),
                        self.num_hidden_layers
                    )));
                }
                types
                    .iter()
                    .map(|t| match t.as_str() {
                        FULL => Ok(false),
                        SLIDING => Ok(true),
                        other => Err(EngineError::Config(format!(
                            "layer type '{other}' is not supported (only '{FULL}' and '{SLIDING}')"
                        ))),
                    })
                    .collect()
            }
            None => {
                let every = self.global_attn_every_n_layers.max(1);
                Ok((0..self.num_hidden_layers)
                    .map(|i| i % every != 0)
                    .collect())
            }
        }
    }

    /// The rotary base of the global (`FULL`) or local (`SLIDING`) layers.
    pub fn rope_theta(&self, kind: &str) -> Result<f64> {
        let fallback = if kind == FULL {
            self.global_rope_theta
        } else {
            self.local_rope_theta
        };
        let Some(params) = self.rope_parameters.as_ref().and_then(|p| p.get(kind)) else {
            return Ok(fallback);
        };
        let Some(params) = params else {
            return Ok(fallback);
        };
        if let Some(kind) = params.rope_type.as_deref().filter(|t| *t != "default") {
            return Err(EngineError::Config(format!(
                "rope_type '{kind}' is not supported (only 'default')"
            )));
        }
        Ok(params.rope_theta.unwrap_or(fallback))
    }
}

/// Rotary position embedding of one base: each head's halves rotated by the angles
/// `position · inv_freq`, as transformers' `apply_rotary_pos_emb` does (in f32).
pub(crate) struct Rotary {
    inv_freq: Vec<f32>,
}

impl Rotary {
    /// The rotation of heads of `head_dim` with base `theta`.
    pub(crate) fn new(theta: f64, head_dim: usize) -> Self {
        let theta = theta as f32;
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / theta.powf(i as f32 / head_dim as f32))
            .collect();
        Self { inv_freq }
    }

    /// cos and sin `(len, head_dim)` of positions `0..len`, f32.
    pub(crate) fn tables(&self, len: usize, device: &Device) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let angles: Vec<f32> = (0..len)
            .flat_map(|p| {
                let row: Vec<f32> = self.inv_freq.iter().map(|f| p as f32 * f).collect();
                row.iter().chain(row.iter()).copied().collect::<Vec<_>>()
            })
            .collect();
        let angles = Tensor::from_vec(angles, (len, 2 * half), device)?;
        Ok((angles.cos()?, angles.sin()?))
    }

    /// `x (batch, heads, len, head_dim)` rotated: `x·cos + rotate_half(x)·sin` in f32,
    /// returned in `x`'s dtype.
    fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let xf = x.to_dtype(DType::F32)?;
        let half = xf.dim(D::Minus1)? / 2;
        let rotated = Tensor::cat(
            &[
                &xf.narrow(D::Minus1, half, half)?.neg()?,
                &xf.narrow(D::Minus1, 0, half)?,
            ],
            D::Minus1,
        )?;
        let out = xf.broadcast_mul(cos)?.add(&rotated.broadcast_mul(sin)?)?;
        Ok(out.to_dtype(x.dtype())?)
    }
}

struct Layer {
    /// Layer 0 has none (its input is the embeddings' norm).
    attn_norm: Option<LayerNorm>,
    wqkv: Linear,
    attn_out: Linear,
    mlp_norm: LayerNorm,
    /// Projects to `2 · intermediate_size`: the input, then the gate.
    wi: Linear,
    mlp_out: Linear,
    local: bool,
}

/// ModernBERT with its sequence-classification head.
pub struct ModernBertClassifier {
    cfg: ModernBertConfig,
    activation: Activation,
    head_activation: Activation,
    tok_embeddings: Embedding,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    final_norm: LayerNorm,
    global_rope: Rotary,
    local_rope: Rotary,
    head_dense: Linear,
    head_norm: LayerNorm,
    classifier: Linear,
}

/// A bias-free dense layer `<name>.weight` `(out, in)` (its bias is a constant 0).
fn linear(p: &mut ParamLoader, name: &str, in_dim: usize, out_dim: usize) -> Result<Linear> {
    let weight = p.require(&format!("{name}.weight"), &[out_dim, in_dim])?;
    let bias = Tensor::zeros(out_dim, DType::F32, weight.device())?;
    Ok(Linear::new(weight, bias))
}

/// A LayerNorm without bias from its `weight` `(dim,)`.
fn norm(weight: Tensor, eps: f64) -> Result<LayerNorm> {
    let bias = weight.zeros_like()?;
    Ok(LayerNorm::new(weight, bias, eps))
}

impl ModernBertClassifier {
    /// Build from config and checkpoint; `head` and `classifier` are loaded when
    /// present (a masked-LM checkpoint has `head`), else initialised as transformers
    /// does.
    pub fn load(cfg: ModernBertConfig, p: &mut ParamLoader, num_labels: usize) -> Result<Self> {
        let parse = |name: &str| {
            Activation::parse(name)
                .ok_or_else(|| EngineError::Config(format!("unsupported activation '{name}'")))
        };
        let activation = parse(&cfg.hidden_activation)?;
        let head_activation = parse(&cfg.classifier_activation)?;
        for (flag, set) in [
            ("attention_bias", cfg.attention_bias),
            ("mlp_bias", cfg.mlp_bias),
            ("norm_bias", cfg.norm_bias),
            ("classifier_bias", cfg.classifier_bias),
        ] {
            if set {
                return Err(EngineError::Config(format!(
                    "ModernBERT with {flag} true is not supported (released checkpoints have none)"
                )));
            }
        }
        let h = cfg.hidden_size;
        let heads = cfg.num_attention_heads;
        if heads == 0 || !h.is_multiple_of(heads) || !(h / heads).is_multiple_of(2) {
            return Err(EngineError::Config(format!(
                "hidden_size {h} does not split into num_attention_heads {heads} heads of an \
                 even size"
            )));
        }
        if cfg.initializer_cutoff_factor <= 0.0 {
            return Err(EngineError::Config(format!(
                "initializer_cutoff_factor must be positive, got {}",
                cfg.initializer_cutoff_factor
            )));
        }
        let local = cfg.local_layers()?;
        let eps = cfg.norm_eps;
        let inter = cfg.intermediate_size;
        let tok_embeddings =
            Embedding::load(p, "model.embeddings.tok_embeddings", cfg.vocab_size, h)?;
        let emb_norm = norm(p.require("model.embeddings.norm.weight", &[h])?, eps)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for (i, local) in local.into_iter().enumerate() {
            let n = format!("model.layers.{i}");
            let attn_norm = match i {
                0 => None,
                _ => Some(norm(
                    p.require(&format!("{n}.attn_norm.weight"), &[h])?,
                    eps,
                )?),
            };
            layers.push(Layer {
                attn_norm,
                wqkv: linear(p, &format!("{n}.attn.Wqkv"), h, 3 * h)?,
                attn_out: linear(p, &format!("{n}.attn.Wo"), h, h)?,
                mlp_norm: norm(p.require(&format!("{n}.mlp_norm.weight"), &[h])?, eps)?,
                wi: linear(p, &format!("{n}.mlp.Wi"), h, 2 * inter)?,
                mlp_out: linear(p, &format!("{n}.mlp.Wo"), inter, h)?,
                local,
            });
        }
        let final_norm = norm(p.require("model.final_norm.weight", &[h])?, eps)?;
        let head_dim = h / heads;
        let global_rope = Rotary::new(cfg.rope_theta(FULL)?, head_dim);
        let local_rope = Rotary::new(cfg.rope_theta(SLIDING)?, head_dim);
        // transformers' `_init_weights`: truncated normals, `head.dense` at the
        // output layers' std, `classifier` at hidden_size^-0.5.
        let cutoff = cfg.initializer_cutoff_factor;
        let out_std = cfg.initializer_range / (2.0 * cfg.num_hidden_layers.max(1) as f64).sqrt();
        let dense = p.load_or_init(
            "head.dense.weight",
            &[h, h],
            Init::TruncatedNormal(out_std, cutoff),
        )?;
        let head_dense = Linear::new(dense.clone(), Tensor::zeros(h, DType::F32, dense.device())?);
        let head_norm = norm(p.load_or_init("head.norm.weight", &[h], Init::Ones)?, eps)?;
        let classifier_std = 1.0 / (h as f64).sqrt();
        let classifier = Linear::new(
            p.load_or_init(
                "classifier.weight",
                &[num_labels, h],
                Init::TruncatedNormal(classifier_std, cutoff),
            )?,
            p.load_or_init("classifier.bias", &[num_labels], Init::Zeros)?,
        );
        Ok(Self {
            cfg,
            activation,
            head_activation,
            tok_embeddings,
            emb_norm,
            layers,
            final_norm,
            global_rope,
            local_rope,
            head_dense,
            head_norm,
            classifier,
        })
    }

    /// Compute the encoder's linear layers in int8 from now on (CPU inference only);
    /// the head stays f32.
    pub fn quantize(&mut self) -> Result<()> {
        for layer in &mut self.layers {
            layer.wqkv.quantize()?;
            layer.attn_out.quantize()?;
            layer.wi.quantize()?;
            layer.mlp_out.quantize()?;
        }
        Ok(())
    }

    /// Longest input the config allows (`max_position_embeddings`; rotary positions
    /// have no table).
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Width of the token vectors.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Logits `(batch, labels)` in f32: the pooled token vectors through `head` and
    /// `classifier`.
    pub fn forward(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        let tokens = self.encode(batch, mode, dtype)?;
        let pooled = match self.cfg.classifier_pooling {
            Pooling::Cls => tokens.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => masked_mean(&tokens, &batch.attention_mask)?,
        };
        let x = self.head_dense.forward_activated(
            &pooled.to_dtype(dtype)?,
            dtype,
            self.head_activation,
        )?;
        let x = mode.dropout(&self.head_norm.forward(&x)?, self.cfg.classifier_dropout)?;
        Ok(self.classifier.forward(&x, dtype)?.to_dtype(DType::F32)?)
    }

    /// The encoder's token vectors `(batch, len, hidden)` in f32, from padded rows;
    /// matrix products run in `dtype` (f32 or bf16), the residual stream, norms and
    /// rotations in f32.
    pub fn encode(&self, batch: &Batch, mode: &Mode, dtype: DType) -> Result<Tensor> {
        if batch.offsets.is_some() {
            return Err(EngineError::Config(
                "ModernBERT takes padded batches, not padding-free ones (its local layers \
                 attend within a window of each row)"
                    .into(),
            ));
        }
        let (_, len) = batch.input_ids.dims2()?;
        let device = batch.input_ids.device();
        let padding = attention_bias(&batch.attention_mask)?;
        // Rows no longer than the window: the local layers see every token too.
        let reach = self.cfg.local_attention / 2;
        let window = if len > reach + 1 {
            padding.broadcast_add(&window_bias(len, reach, device)?)?
        } else {
            padding.clone()
        };
        let global = self.global_rope.tables(len, device)?;
        let local = self.local_rope.tables(len, device)?;
        let heads = self.cfg.num_attention_heads;
        let h = self.cfg.hidden_size;
        let inter = self.cfg.intermediate_size;

        let x = self.tok_embeddings.forward(&batch.input_ids)?;
        let mut x = mode.dropout(&self.emb_norm.forward(&x)?, self.cfg.embedding_dropout)?;
        for layer in &self.layers {
            let normed = match &layer.attn_norm {
                Some(n) => n.forward(&x)?,
                None => x.clone(),
            };
            let qkv = layer.wqkv.forward(&normed.to_dtype(dtype)?, dtype)?;
            let part = |i: usize| split_heads(&qkv.narrow(D::Minus1, i * h, h)?, heads);
            let ((cos, sin), bias) = if layer.local {
                (&local, &window)
            } else {
                (&global, &padding)
            };
            let q = Rotary::apply(&part(0)?, cos, sin)?;
            let k = Rotary::apply(&part(1)?, cos, sin)?;
            let ctx =
                attention_over_heads(&q, &k, &part(2)?, bias, self.cfg.attention_dropout, mode)?;
            let attn = layer.attn_out.forward(&ctx, dtype)?;
            x = residual(&mode.dropout(&attn, self.cfg.attention_dropout)?, &x)?;

            let wi = layer
                .wi
                .forward(&layer.mlp_norm.forward(&x)?.to_dtype(dtype)?, dtype)?;
            let input = self
                .activation
                .forward(&wi.narrow(D::Minus1, 0, inter)?.contiguous()?)?;
            let gate = wi.narrow(D::Minus1, inter, inter)?;
            let hidden = mode.dropout(&input.mul(&gate)?, self.cfg.mlp_dropout)?;
            x = residual(&layer.mlp_out.forward(&hidden, dtype)?, &x)?;
        }
        self.final_norm.forward(&x)
    }
}

/// The local layers' mask `(1, 1, len, len)`: 0 where the query and key positions are
/// at most `reach` apart, a large negative elsewhere.
fn window_bias(len: usize, reach: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..len)
        .flat_map(|q| (0..len).map(move |k| if q.abs_diff(k) <= reach { 0.0 } else { -1e9 }))
        .collect();
    Ok(Tensor::from_vec(values, (1, 1, len, len), device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of 4 (`reach` 2) lets each position see 2 either side and itself.
    #[test]
    fn the_window_reaches_half_the_local_attention_each_side() {
        let mask: Vec<Vec<f32>> = window_bias(5, 2, &Device::Cpu)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        let seen: Vec<Vec<usize>> = mask
            .iter()
            .map(|row| (0..5).filter(|&k| row[k] == 0.0).collect())
            .collect();
        assert_eq!(
            seen,
            [
                vec![0, 1, 2],
                vec![0, 1, 2, 3],
                vec![0, 1, 2, 3, 4],
                vec![1, 2, 3, 4],
                vec![2, 3, 4]
            ]
        );
        assert!(mask[0][3] < -1e8);
    }

    /// Rotating by position 0 changes nothing; by position p it turns each pair
    /// (x_i, x_{i+half}) by the angle p·inv_freq_i.
    #[test]
    fn rotary_turns_each_pair_by_its_angle() {
        let rope = Rotary::new(10_000.0, 4);
        let (cos, sin) = rope.tables(2, &Device::Cpu).unwrap();
        let x = Tensor::new(&[[[[1f32, 2., 3., 4.], [1., 2., 3., 4.]]]], &Device::Cpu).unwrap();
        let out: Vec<Vec<f32>> = Rotary::apply(&x, &cos, &sin)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(out[0], [1., 2., 3., 4.]);
        let (a0, a1) = (1f32, 1.0 / 100f32);
        let want = [
            a0.cos() - 3. * a0.sin(),
            2. * a1.cos() - 4. * a1.sin(),
            3. * a0.cos() + a0.sin(),
            4. * a1.cos() + 2. * a1.sin(),
        ];
        for (o, w) in out[1].iter().zip(want) {
            assert!((o - w).abs() < 1e-6, "{:?} vs {want:?}", out[1]);
        }
    }
}
