//! Differentiable building blocks shared by the encoders: linear, embedding,
//! LayerNorm, activations, seeded dropout and multi-head self-attention. The
//! arithmetic runs in `crate::kernels`, which picks each op's kernel for the device.

use super::int8::QuantizedLinear;
use super::params::{Init, ParamLoader};
use super::Batch;
use crate::error::Result;
use crate::kernels;
use candle_core::{DType, Tensor};
use rand::{rngs::StdRng, RngCore, SeedableRng};
use std::sync::Mutex;

/// Whether a forward pass trains (dropout on) or evaluates (dropout off).
pub enum Mode<'a> {
    Eval,
    Train(&'a DropoutRng),
}

/// Seeded randomness for dropout masks: reproducible on CPU and CUDA (where each mask
/// is a hash of a seed drawn here, the same mask on both); on Metal the device's own
/// generator (seeded at start) makes the masks.
pub struct DropoutRng(Mutex<StdRng>);

impl DropoutRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Mode<'_> {
    /// The probability and a fresh seed for a dropout applied inside a fused op:
    /// `None` in evaluation or when `p` is 0.
    pub fn dropout_draw(&self, p: f64) -> Option<(f64, u64)> {
        match self {
            Mode::Train(rng) if p > 0.0 => Some((
                p,
                rng.0.lock().unwrap_or_else(|e| e.into_inner()).next_u64(),
            )),
            _ => None,
        }
    }

    /// Inverted dropout with probability `p` in training mode; identity otherwise.
    pub fn dropout(&self, x: &Tensor, p: f64) -> Result<Tensor> {
        let Some((p, seed)) = self.dropout_draw(p) else {
            return Ok(x.clone());
        };
        Ok(kernels::dropout(x, p, seed)?)
    }
}

/// A dense layer `x Wᵀ + b` with weights named `<name>.weight` / `<name>.bias`; for
/// prediction on the CPU, optionally with an int8 copy of its weights that then
/// computes it.
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
    int8: Option<QuantizedLinear>,
}

impl Linear {
    /// A layer from its weight `(out, in)` and bias `(out,)`.
    pub fn new(weight: Tensor, bias: Tensor) -> Self {
        Self {
            weight,
            bias,
            int8: None,
        }
    }

    /// Compute this layer from int8 weights from now on ([`QuantizedLinear`]); for
    /// inference on the CPU only.
    pub fn quantize(&mut self) -> Result<()> {
        let (outputs, inputs) = self.weight.dims2()?;
        let weight = self.weight.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let bias = self.bias.to_dtype(DType::F32)?.to_vec1()?;
        self.int8 = Some(QuantizedLinear::new(&weight, &bias, outputs, inputs)?);
        Ok(())
    }

    /// Load an encoder layer (must be in the checkpoint).
    pub fn load(p: &mut ParamLoader, name: &str, in_dim: usize, out_dim: usize) -> Result<Self> {
        Ok(Self::new(
            p.require(&format!("{name}.weight"), &[out_dim, in_dim])?,
            p.require(&format!("{name}.bias"), &[out_dim])?,
        ))
    }

    /// Load a head layer, initialising N(0, std) / zeros when absent.
    pub fn load_or_init(
        p: &mut ParamLoader,
        name: &str,
        in_dim: usize,
        out_dim: usize,
        std: f64,
    ) -> Result<Self> {
        Ok(Self::new(
            p.load_or_init(
                &format!("{name}.weight"),
                &[out_dim, in_dim],
                Init::Normal(std),
            )?,
            p.load_or_init(&format!("{name}.bias"), &[out_dim], Init::Zeros)?,
        ))
    }

    /// Apply to `(..., in_dim)`, computing in `dtype` (the f32 weights are cast for
    /// bf16 mixed precision; their gradients flow back in f32).
    pub fn forward(&self, x: &Tensor, dtype: DType) -> Result<Tensor> {
        self.compute(x, dtype, false)
    }

    /// `activation(self.forward(x))`; with int8 weights and exact GELU, the activation
    /// runs in the product's own pass.
    pub fn forward_activated(
        &self,
        x: &Tensor,
        dtype: DType,
        activation: Activation,
    ) -> Result<Tensor> {
        // int8 weights compute on the CPU only (other devices use the f32 weights).
        if self.int8.is_some() && x.device().is_cpu() && matches!(activation, Activation::Gelu) {
            return self.compute(x, dtype, true);
        }
        activation.forward(&self.forward(x, dtype)?)
    }

    /// [`Self::forward`], with exact GELU fused into the int8 product when `int8_gelu`.
    fn compute(&self, x: &Tensor, dtype: DType, int8_gelu: bool) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let in_dim = dims[dims.len() - 1];
        let rows = x.elem_count() / in_dim.max(1);
        let mut out = dims;
        let last = out.len() - 1;
        out[last] = self.bias.dim(0)?;
        // int8 weights compute on the CPU only (other devices use the f32 weights).
        if let (Some(int8), true) = (&self.int8, x.device().is_cpu()) {
            let x = x.to_dtype(DType::F32)?.reshape((rows, in_dim))?;
            return Ok(int8.forward(&x, int8_gelu)?.reshape(out)?);
        }
        let x = x.reshape((rows, in_dim))?;
        let y = kernels::linear(&x, &self.weight, &self.bias, dtype)?;
        Ok(y.reshape(out)?)
    }
}

/// Layer normalisation over the last dimension.
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// A layer from its weight and bias `(dim,)`.
    pub fn new(weight: Tensor, bias: Tensor, eps: f64) -> Self {
        Self { weight, bias, eps }
    }

    /// Load `<name>.weight` / `<name>.bias`.
    pub fn load(p: &mut ParamLoader, name: &str, dim: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: p.require(&format!("{name}.weight"), &[dim])?,
            bias: p.require(&format!("{name}.bias"), &[dim])?,
            eps,
        })
    }

    /// Normalise `x` (any float dtype); the result is f32, as under torch's autocast.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(kernels::layer_norm(x, &self.weight, &self.bias, self.eps)?)
    }
}

/// `branch + stream` in the stream's dtype (a bf16 sublayer output joins the f32
/// residual stream).
pub fn residual(branch: &Tensor, stream: &Tensor) -> Result<Tensor> {
    Ok(branch.to_dtype(stream.dtype())?.add(stream)?)
}

/// How a batch's rows lie in the encoder's tensors, and the attention that goes with
/// it.
pub enum RowLayout<'a> {
    /// Rows padded to the longest, `(batch, len, hidden)`; `bias` masks the padding.
    Padded { bias: Tensor },
    /// A padding-free batch, `(1, tokens, hidden)`, with its row boundaries and each
    /// row's first token.
    Packed {
        offsets: &'a [usize],
        firsts: Tensor,
    },
}

impl<'a> RowLayout<'a> {
    /// The layout of `batch`.
    pub fn of(batch: &'a Batch) -> Result<Self> {
        Ok(match &batch.offsets {
            None => Self::Padded {
                bias: attention_bias(&batch.attention_mask)?,
            },
            Some(offsets) => {
                let firsts: Vec<u32> = offsets[..offsets.len().saturating_sub(1)]
                    .iter()
                    .map(|&o| o as u32)
                    .collect();
                Self::Packed {
                    offsets,
                    firsts: Tensor::new(firsts.as_slice(), batch.input_ids.device())?,
                }
            }
        })
    }

    /// Each token's position in its row, shaped like the input ids.
    pub fn positions(&self, batch: &Batch) -> Result<Tensor> {
        let device = batch.input_ids.device();
        Ok(match self {
            Self::Padded { .. } => {
                let (b, l) = batch.input_ids.dims2()?;
                Tensor::arange(0u32, l as u32, device)?
                    .unsqueeze(0)?
                    .broadcast_as((b, l))?
                    .contiguous()?
            }
            Self::Packed { offsets, .. } => {
                let positions: Vec<u32> = offsets
                    .windows(2)
                    .flat_map(|w| 0..(w[1] - w[0]) as u32)
                    .collect();
                let n = positions.len();
                Tensor::from_vec(positions, (1, n), device)?
            }
        })
    }

    /// Each token's position as RoBERTa numbers them (transformers'
    /// `create_position_ids_from_input_ids`): the n-th token of a row that is not
    /// `padding_idx` is at `padding_idx + n`, a `padding_idx` token at `padding_idx`;
    /// shaped like the input ids.
    pub fn positions_after_padding(&self, batch: &Batch, padding_idx: u32) -> Result<Tensor> {
        let ids: Vec<u32> = batch.input_ids.flatten_all()?.to_vec1()?;
        let starts: Vec<usize> = match self {
            Self::Padded { .. } => {
                let len = batch.input_ids.dim(1)?.max(1);
                (0..ids.len()).step_by(len).collect()
            }
            Self::Packed { offsets, .. } => offsets.to_vec(),
        };
        let mut starts = starts.into_iter().peekable();
        let mut seen = 0;
        let positions: Vec<u32> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                while starts.next_if(|&s| s <= i).is_some() {
                    seen = 0;
                }
                if id == padding_idx {
                    padding_idx
                } else {
                    seen += 1;
                    padding_idx + seen
                }
            })
            .collect();
        Ok(Tensor::from_vec(
            positions,
            batch.input_ids.dims(),
            batch.input_ids.device(),
        )?)
    }

    /// The token vectors a layer computes from `x`: all of them, or with `first_only`
    /// each row's first (the only one the classification head reads).
    pub fn query_rows(&self, x: &Tensor, first_only: bool) -> Result<Tensor> {
        Ok(match self {
            _ if !first_only => x.clone(),
            Self::Padded { .. } => x.narrow(1, 0, 1)?,
            Self::Packed { firsts, .. } => x.index_select(firsts, 1)?,
        })
    }

    /// Multi-head attention of `q` (rows from [`Self::query_rows`] with the same
    /// `first_only`) over keys `k` and values `v`, in the compute dtype.
    #[allow(clippy::too_many_arguments)]
    pub fn attend(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        heads: usize,
        attn_dropout: f64,
        mode: &Mode,
        first_only: bool,
    ) -> Result<Tensor> {
        match self {
            Self::Padded { bias } => multi_head_attention(q, k, v, bias, heads, attn_dropout, mode),
            Self::Packed { offsets, .. } => {
                let q_offsets: Vec<usize> = if first_only {
                    (0..offsets.len()).collect()
                } else {
                    offsets.to_vec()
                };
                let ctx = kernels::ragged_attention(
                    &q.squeeze(0)?,
                    &k.squeeze(0)?,
                    &v.squeeze(0)?,
                    &q_offsets,
                    offsets,
                    heads,
                    mode.dropout_draw(attn_dropout),
                )?;
                Ok(ctx.unsqueeze(0)?)
            }
        }
    }

    /// Each row's first token vector, `(batch, hidden)`, from the last layer's output
    /// computed with `first_only`.
    pub fn first_tokens(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::Padded { .. } => x.squeeze(1)?,
            Self::Packed { .. } => x.squeeze(0)?,
        })
    }
}

/// Token lookup table.
pub struct Embedding {
    weight: Tensor,
}

impl Embedding {
    /// Load `<name>.weight` of shape `(count, dim)`.
    pub fn load(p: &mut ParamLoader, name: &str, count: usize, dim: usize) -> Result<Self> {
        Ok(Self {
            weight: p.require(&format!("{name}.weight"), &[count, dim])?,
        })
    }

    /// Look up `(batch, len)` ids → `(batch, len, dim)`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, l) = ids.dims2()?;
        let dim = self.weight.dim(1)?;
        let flat = ids.flatten_all()?;
        Ok(self.weight.index_select(&flat, 0)?.reshape((b, l, dim))?)
    }
}

/// Feed-forward activation, by the name in config.json.
#[derive(Debug, Clone, Copy)]
pub enum Activation {
    /// Exact GELU (erf), transformers' "gelu".
    Gelu,
    /// Tanh approximation, "gelu_new" / "gelu_pytorch_tanh".
    GeluTanh,
    Relu,
}

impl Activation {
    /// Parse a config.json activation name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    /// Apply.
    pub fn forward(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::Gelu => kernels::gelu(x)?,
            Self::GeluTanh => x.gelu()?,
            Self::Relu => x.relu()?,
        })
    }
}

/// Additive attention bias from a keep-mask (1 = token, 0 = padding):
/// `(batch, len)` → `(batch, 1, 1, len)` with 0 for tokens and a large negative for padding.
pub fn attention_bias(mask: &Tensor) -> Result<Tensor> {
    let (b, l) = mask.dims2()?;
    let keep = mask.to_dtype(DType::F32)?;
    Ok(((keep - 1.0)? * 1e9)?.reshape((b, 1, 1, l))?)
}

/// Scaled dot-product attention over heads: q is `(batch, queries, heads·dh)`, k and v
/// `(batch, keys, heads·dh)`, in the compute dtype; `bias` is f32 `(batch, 1, 1, keys)`.
pub fn multi_head_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    heads: usize,
    attn_dropout: f64,
    mode: &Mode,
) -> Result<Tensor> {
    let (q, k, v) = (
        split_heads(q, heads)?,
        split_heads(k, heads)?,
        split_heads(v, heads)?,
    );
    attention_over_heads(&q, &k, &v, bias, attn_dropout, mode)
}

/// `(batch, len, heads·dh)` → `(batch, heads, len, dh)`, contiguous.
pub fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, len, dim) = x.dims3()?;
    Ok(x.reshape((b, len, heads, dim / heads))?
        .transpose(1, 2)?
        .contiguous()?)
}

/// Scaled dot-product attention of heads already split (e.g. rotated by a rotary
/// embedding): q `(batch, heads, queries, dh)`, k and v `(batch, heads, keys, dh)` in
/// the compute dtype; `bias` f32 `(batch, 1, 1, keys)`, or `(batch, 1, queries, keys)`
/// for a mask per query (a sliding window). Returns `(batch, queries, heads·dh)`.
pub fn attention_over_heads(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    attn_dropout: f64,
    mode: &Mode,
) -> Result<Tensor> {
    let (b, heads, lq, dh) = q.dims4()?;
    let scale = 1.0 / (dh as f64).sqrt();
    let dropout = mode.dropout_draw(attn_dropout);
    let ctx = kernels::attention(q, k, v, bias, scale, dropout)?;
    Ok(ctx
        .transpose(1, 2)?
        .contiguous()?
        .reshape((b, lq, heads * dh))?)
}

/// The mean of each row's token vectors `(batch, len, hidden)` over the tokens whose
/// `mask` `(batch, len)` is 1 (padding excluded): `(batch, hidden)`, f32.
pub fn masked_mean(tokens: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let keep = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let sum = tokens.to_dtype(DType::F32)?.broadcast_mul(&keep)?.sum(1)?;
    let count = keep.sum(1)?.clamp(1e-9, f64::MAX)?;
    Ok(sum.broadcast_div(&count)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn batch(ids: Vec<Vec<u32>>, offsets: Option<Vec<usize>>) -> Batch {
        let ids = Tensor::new(ids, &Device::Cpu).unwrap();
        Batch {
            attention_mask: ids.ones_like().unwrap(),
            token_type_ids: ids.zeros_like().unwrap(),
            input_ids: ids,
            offsets,
        }
    }

    fn positions(batch: &Batch) -> Vec<Vec<u32>> {
        RowLayout::of(batch)
            .unwrap()
            .positions_after_padding(batch, 1)
            .unwrap()
            .to_vec2()
            .unwrap()
    }

    /// RoBERTa's numbering: real tokens from padding_idx + 1, padding at padding_idx,
    /// restarting in every row of a padded and of a padding-free batch.
    #[test]
    fn roberta_positions_count_real_tokens_after_the_padding_id() {
        let padded = batch(vec![vec![0, 5, 6, 2], vec![0, 7, 2, 1]], None);
        assert_eq!(positions(&padded), [[2, 3, 4, 5], [2, 3, 4, 1]]);
        let packed = batch(vec![vec![0, 5, 6, 2, 0, 7, 2]], Some(vec![0, 4, 4, 7]));
        assert_eq!(positions(&packed), [[2, 3, 4, 5, 2, 3, 4]]);
    }
}
