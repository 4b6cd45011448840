//! Dialect's fused kernels, and the one place that picks, op by op, which one runs:
//! the fused CPU kernel (`cpu`, f32), the fused CUDA kernel (`cuda`, f32 and bf16), or
//! candle's composed ops, which is what Metal and the dtypes a kernel does not take
//! get. The encoder's layers call the functions here and nothing below them.

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;

pub(crate) use cpu::simd_fn;
pub use cpu::SimdPath;

use candle_core::{DType, Result, Tensor, D};

/// Inverted dropout of `x` with probability `p`. CPU (f32) and CUDA: the mask is a hash
/// of `seed` and each element's index, the same on both. Elsewhere the device's own
/// generator draws it (`seed` unused).
pub(crate) fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return cuda::dropout(x, p, seed);
    }
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        return cpu::dropout(x, p, seed);
    }
    let u = Tensor::rand(0f32, 1f32, x.shape(), x.device())?;
    let keep = (u.ge(p)?.to_dtype(x.dtype())? * (1.0 / (1.0 - p)))?;
    x.mul(&keep)
}

/// `x` after `dropout` (probability and seed), or `x` itself for `None`.
fn maybe_dropout(x: Tensor, dropout: Option<(f64, u64)>) -> Result<Tensor> {
    match dropout {
        Some((p, seed)) => self::dropout(&x, p, seed),
        None => Ok(x),
    }
}

/// Layer norm over the last dimension of `x` (any float dtype) with f32 `weight` and
/// `bias`; the result is f32, as under torch's autocast. CUDA reads `x` in its own
/// dtype; elsewhere it is cast to f32 first, then the CPU kernel or the composed ops
/// run.
pub(crate) fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return cuda::layer_norm(x, weight, bias, eps);
    }
    let x = x.to_dtype(DType::F32)?;
    if x.device().is_cpu() {
        return cpu::layer_norm(&x, weight, bias, eps);
    }
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centred.broadcast_div(&(var + eps)?.sqrt()?)?;
    normed.broadcast_mul(weight)?.broadcast_add(bias)
}

/// Exact (erf) GELU: the CUDA kernel, the CPU kernel for f32, candle's `gelu_erf`
/// otherwise.
pub(crate) fn gelu(x: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return cuda::gelu(x);
    }
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        return cpu::gelu(x);
    }
    x.gelu_erf()
}

/// A dense layer `x · wᵀ + b` for `x (rows, in)`, `w (out, in)` and `b (out,)`,
/// computed in `dtype` (the f32 weights are cast for bf16 mixed precision). The CPU
/// kernel when everything is f32 on the CPU; candle's product elsewhere (cuBLAS on
/// CUDA).
pub(crate) fn linear(x: &Tensor, w: &Tensor, b: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && dtype == DType::F32 {
        return cpu::linear(x, w, b);
    }
    x.to_dtype(dtype)?
        .matmul(&w.to_dtype(dtype)?.t()?)?
        .broadcast_add(&b.to_dtype(dtype)?)
}

/// Scaled dot-product attention of padded rows, heads split out: `q` is
/// `(batch, heads, queries, dh)`, `k` and `v` `(batch, heads, keys, dh)` in the compute
/// dtype, `bias` f32 `(batch, 1, 1, keys)` (0 for tokens, a large negative for
/// padding) or `(batch, 1, queries, keys)` (a mask per query, e.g. a sliding window);
/// `dropout` is the attention dropout's probability and seed, `None` in evaluation.
/// Returns `(batch, heads, queries, dh)`. CPU (f32): the batched products and the
/// masked softmax kernel; CUDA: cuBLAS products around the masked softmax kernel;
/// a mask per query, and other devices: candle's ops (softmax in f32).
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    scale: f64,
    dropout: Option<(f64, u64)>,
) -> Result<Tensor> {
    if bias.dim(2)? != 1 {
        return composed_attention(q, k, v, bias, scale, dropout);
    }
    let (b, heads, lq, dh) = q.dims4()?;
    let l = k.dim(2)?;
    #[cfg(feature = "cuda")]
    if q.device().is_cuda() {
        // cuBLAS reads kᵀ transposed in place.
        let probs = cuda::masked_softmax(&q.matmul(&k.t()?)?, &bias.reshape((b, l))?, scale)?;
        return maybe_dropout(probs, dropout)?.matmul(v);
    }
    if q.device().is_cpu() && q.dtype() == DType::F32 {
        // Batched over (batch, head) with one whole product per thread; kᵀ is read in place.
        let flat = |t: &Tensor, len: usize| t.reshape((b * heads, len, t.dim(3)?));
        let scores = cpu::batched_matmul(&flat(q, lq)?, &flat(k, l)?.t()?)?;
        let probs = cpu::masked_softmax(
            &scores.reshape((b, heads, lq, l))?,
            &bias.reshape((b, l))?,
            scale,
        )?;
        let probs = maybe_dropout(probs, dropout)?;
        return cpu::batched_matmul(&flat(&probs, lq)?, &flat(v, l)?)?.reshape((b, heads, lq, dh));
    }
    composed_attention(q, k, v, bias, scale, dropout)
}

/// [`attention`] from candle's ops: the products in `q`'s dtype, the scaled scores,
/// bias and softmax in f32.
fn composed_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    scale: f64,
    dropout: Option<(f64, u64)>,
) -> Result<Tensor> {
    let scores = (q.matmul(&k.t()?.contiguous()?)?.to_dtype(DType::F32)? * scale)?;
    let scores = scores.broadcast_add(bias)?;
    let probs = candle_nn::ops::softmax(&scores, D::Minus1)?.to_dtype(q.dtype())?;
    maybe_dropout(probs, dropout)?.matmul(v)
}

/// Scaled dot-product attention of a padding-free batch (see
/// [`cpu::ragged_attention`] for the layout). Padding-free batches are made on the
/// CPU only, so this is the CPU kernel on every device (candle refuses it elsewhere).
pub(crate) fn ragged_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    q_offsets: &[usize],
    kv_offsets: &[usize],
    heads: usize,
    dropout: Option<(f64, u64)>,
) -> Result<Tensor> {
    cpu::ragged_attention(q, k, v, q_offsets, kv_offsets, heads, dropout)
}

/// `softmax(scores · scale + bias)` over the keys, for attention scores a model
/// composes itself (DeBERTa's disentangled terms): `scores` `(batch, heads, queries,
/// keys)` in the compute dtype, `bias` f32 `(batch, 1, 1, keys)`. The masked softmax
/// kernel on the CPU (f32) and CUDA; candle's ops in f32 elsewhere. The result has
/// the scores' dtype.
pub(crate) fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f64) -> Result<Tensor> {
    let (b, _, _, l) = scores.dims4()?;
    #[cfg(feature = "cuda")]
    if scores.device().is_cuda() {
        return cuda::masked_softmax(scores, &bias.reshape((b, l))?, scale);
    }
    if scores.device().is_cpu() && scores.dtype() == DType::F32 {
        return cpu::masked_softmax(scores, &bias.reshape((b, l))?, scale);
    }
    let shifted = (scores.to_dtype(DType::F32)? * scale)?.broadcast_add(bias)?;
    candle_nn::ops::softmax(&shifted, D::Minus1)?.to_dtype(scores.dtype())
}
