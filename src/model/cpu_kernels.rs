//! Fused CPU kernels for the ops candle composes from many small ones: layer norm,
//! the attention softmax (scale and padding mask folded in) and exact GELU, each with a
//! fused backward. One pass per row instead of five to ten whole-tensor ops, and one
//! saved tensor per op instead of one per intermediate. Rows are shared out over
//! rayon's pool, the threads candle's matrix products use. Also the attention's batched
//! matrix products, one whole small product per thread (candle splits each of the
//! batch's products over all threads in turn). f32 only: the CPU computes in f32.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Error, Layout, Result, Shape, Tensor,
};
use rayon::prelude::*;

/// Elements each parallel task handles at least (smaller tensors stay on one thread).
const TASK_ELEMS: usize = 16 * 1024;

/// The contiguous f32 data of an op input.
pub(super) fn data<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let all = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&all[start..end]),
        None => Err(Error::Msg(format!("{op}: input must be contiguous"))),
    }
}

/// Rows per parallel task for rows of `cols` elements.
fn rows_per_task(cols: usize) -> usize {
    TASK_ELEMS.div_ceil(cols.max(1))
}

/// The vector instruction set the fused kernels are compiled for on this CPU, chosen at
/// run time; every path is the same source compiled with other target features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdPath {
    /// AVX-512 (F, BW, DQ, VL) with FMA: 16 f32 lanes (Intel Xeon since Skylake-SP,
    /// AMD Zen 4 and 5).
    Avx512,
    /// AVX2 with FMA: 8 f32 lanes (x86-64 CPUs since 2013–2015).
    Avx2Fma,
    /// NEON: 4 f32 lanes, always there on 64-bit ARM (Apple silicon, ARM servers).
    Neon,
    /// Whatever the build targets (SSE2 on x86-64).
    Baseline,
}

impl SimdPath {
    /// The widest path this CPU runs (detected once).
    pub fn detect() -> Self {
        static PATH: std::sync::OnceLock<SimdPath> = std::sync::OnceLock::new();
        *PATH.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                use std::is_x86_feature_detected as has;
                if has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
                    return SimdPath::Avx512;
                }
                if has!("avx2") && has!("fma") {
                    return SimdPath::Avx2Fma;
                }
            }
            if cfg!(target_arch = "aarch64") {
                SimdPath::Neon
            } else {
                SimdPath::Baseline
            }
        })
    }

    /// Its name as the benchmarks and `dialect devices` print it.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "AVX-512",
            SimdPath::Avx2Fma => "AVX2+FMA",
            SimdPath::Neon => "NEON",
            SimdPath::Baseline => "baseline SIMD",
        }
    }
}

/// Lanes of the partial results of [`sum_of`], [`dot_of`] and [`max_of`]: sequential f32
/// reductions do not vectorise (their order is fixed); eight running ones do.
const LANES: usize = 8;

/// Σ `x`, as eight interleaved partial sums.
#[inline(always)]
pub(super) fn sum_of(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Σ `a[i]·b[i]` over equal-length slices, as eight interleaved partial sums.
#[inline(always)]
pub(super) fn dot_of(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += a[i] * b[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `softmax(scale · row)` in place (`scale` > 0).
#[inline(always)]
pub(super) fn softmax_in_place(row: &mut [f32], scale: f32) {
    let max = max_of(row);
    row.iter_mut().for_each(|s| *s = exp((*s - max) * scale));
    let inv = 1.0 / sum_of(row);
    row.iter_mut().for_each(|s| *s *= inv);
}

/// The smallest and largest of `x` and `start` (NaN values are skipped).
#[inline(always)]
pub(super) fn min_max_of(x: &[f32], start: f32) -> (f32, f32) {
    let (mut lo, mut hi) = ([start; LANES], [start; LANES]);
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for i in 0..LANES {
            lo[i] = if chunk[i] < lo[i] { chunk[i] } else { lo[i] };
            hi[i] = if chunk[i] > hi[i] { chunk[i] } else { hi[i] };
        }
    }
    let (lo, hi) = (lo.iter().chain(tail), hi.iter().chain(tail));
    (
        lo.fold(start, |m, &v| m.min(v)),
        hi.fold(start, |m, &v| m.max(v)),
    )
}

/// The largest of `x` (−∞ when empty; NaN values are skipped).
#[inline(always)]
pub(super) fn max_of(x: &[f32]) -> f32 {
    min_max_of(x, f32::NEG_INFINITY).1
}

/// eˣ for f32 within 2 ulp (Cephes' `expf`: a degree-6 polynomial on
/// [−ln 2 / 2, ln 2 / 2] scaled by 2ⁿ), branch-free so that it vectorises where libm's
/// `expf` is a call per value; 0 below −87.3 (where f32 leaves normal numbers), and
/// e^88.37 above 88.37 (attention and GELU take it at x ≤ 0).
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    let underflow = x < -87.336_55;
    let x = x.clamp(-87.336_55, 88.376_26);
    // Round to nearest by the 1.5 · 2²³ trick: no libm `floorf` call where the
    // baseline has no rounding instruction (SSE2).
    const ROUND: f32 = 12_582_912.0;
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4 * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let scaled = y * f32::from_bits(((n as i32 + 127) as u32) << 23);
    if underflow {
        0.0
    } else {
        scaled
    }
}

/// `$vis unsafe fn $name(args) -> ret { body }` whose body is compiled for the path
/// [`SimdPath::detect`] picks: the body becomes an `#[inline(always)]` function called
/// from each path's `#[target_feature]` function, so it is always compiled inside the
/// path's function, with whatever it calls that is `#[inline(always)]`. (A closure
/// handed to a `#[target_feature]` function may be kept out of line and compiled for
/// the baseline only: every hot loop is written this way instead.) Calling it is as
/// safe as its body: the wrapper only adds features the CPU has.
macro_rules! simd_fn {
    ($(#[$doc:meta])* $vis:vis unsafe fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            unsafe fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                match $crate::model::SimdPath::detect() {
                    // SAFETY: `detect` found the path's features on this CPU.
                    $crate::model::SimdPath::Avx512 => return avx512($($arg),*),
                    $crate::model::SimdPath::Avx2Fma => return avx2($($arg),*),
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_fn;

/// Apply `f(first_row, block)` to blocks of whole rows (of `cols` elements) of `out`,
/// in parallel.
fn for_row_blocks(out: &mut [f32], cols: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let per = rows_per_task(cols);
    out.par_chunks_mut(per * cols.max(1))
        .enumerate()
        .for_each(|(task, block)| f(task * per, block));
}

/// The part of `x` (rows of `cols` elements) that a block of `len` values from row
/// `first` covers.
fn block_of(x: &[f32], first: usize, cols: usize, len: usize) -> &[f32] {
    &x[first * cols..first * cols + len]
}

/// `values` (an op's input or output, as `what` says) and its gradient `dy` have the
/// same length.
fn same_length(op: &str, what: &str, values: &[f32], dy: &[f32]) -> Result<()> {
    if values.len() == dy.len() {
        Ok(())
    } else {
        Err(Error::Msg(format!(
            "{op}: {what} of {} values, gradient of {}",
            values.len(),
            dy.len()
        )))
    }
}

fn check_f32(dtype: DType, op: &str) -> Result<()> {
    if dtype == DType::F32 {
        Ok(())
    } else {
        Err(Error::Msg(format!(
            "{op}: the CPU kernels take f32, got {dtype:?}"
        )))
    }
}

// ---------------------------------------------------------------- layer norm

/// Layer norm over the last dimension of an f32 `x` with weight and bias `(cols,)`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    check_f32(x.dtype(), "layer norm")?;
    x.contiguous()?
        .apply_op3(weight, bias, LayerNorm { eps: eps as f32 })
}

/// Mean and 1 / sqrt(variance + eps) of one row (two passes, f32).
#[inline(always)]
fn row_stats(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len().max(1) as f32;
    let mean = sum_of(x) / n;
    let mut centred = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks
        .remainder()
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum();
    for chunk in chunks {
        for (c, v) in centred.iter_mut().zip(chunk) {
            *c += (v - mean) * (v - mean);
        }
    }
    let var = (centred.iter().sum::<f32>() + tail) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

simd_fn!(
    /// Layer norm of each row of `x` into `y`, rows of `w.len()` values.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn layer_norm_rows(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
        let cols = w.len().max(1);
        for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            let (mean, rstd) = row_stats(x, eps);
            for (((y, x), w), b) in y.iter_mut().zip(x).zip(w).zip(b) {
                *y = (x - mean) * rstd * w + b;
            }
        }
    }
);

struct LayerNorm {
    eps: f32,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "dialect-cpu-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (
            data(x, xl, self.name())?,
            data(w, wl, self.name())?,
            data(b, bl, self.name())?,
        );
        let cols = w.len();
        if x.len() % cols.max(1) != 0 || b.len() != cols {
            return Err(Error::Msg(format!(
                "layer norm: input of {} values, weight of {cols} and bias of {}",
                x.len(),
                b.len()
            )));
        }
        let mut y = vec![0f32; x.len()];
        for_row_blocks(&mut y, cols, |first, y| {
            let x = block_of(x, first, cols, y.len());
            // SAFETY: `layer_norm_rows` has no requirement.
            unsafe { layer_norm_rows(x, w, b, self.eps, y) }
        });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = x.apply_op3_no_bwd(w, &dy, &LayerNormInputGrad { eps: self.eps })?;
        let dwb = x.apply_op2_no_bwd(&dy, &LayerNormParamGrad { eps: self.eps })?;
        Ok((Some(dx), Some(dwb.get(0)?), Some(dwb.get(1)?)))
    }
}

simd_fn!(
    /// dx of layer norm for each row of `x`, `dy` and `dx` (rows of `w.len()` values):
    /// rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · w.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn layer_norm_grad_rows(x: &[f32], w: &[f32], dy: &[f32], eps: f32, dx: &mut [f32]) {
        let cols = w.len().max(1);
        let n = cols as f32;
        let mut g = vec![0f32; cols];
        for ((x, dy), dx) in x
            .chunks_exact(cols)
            .zip(dy.chunks_exact(cols))
            .zip(dx.chunks_exact_mut(cols))
        {
            let (mean, rstd) = row_stats(x, eps);
            for ((g, dy), w) in g.iter_mut().zip(dy).zip(w) {
                *g = dy * w;
            }
            // dx holds x̂ until the last pass.
            for (xhat, x) in dx.iter_mut().zip(x) {
                *xhat = (x - mean) * rstd;
            }
            let (mean_g, mean_gx) = (sum_of(&g) / n, dot_of(&g, dx) / n);
            for (dx, g) in dx.iter_mut().zip(&g) {
                *dx = rstd * (g - mean_g - *dx * mean_gx);
            }
        }
    }
);

/// dx of layer norm from (x, weight, dy).
struct LayerNormInputGrad {
    eps: f32,
}

impl CustomOp3 for LayerNormInputGrad {
    fn name(&self) -> &'static str {
        "dialect-cpu-layer-norm-input-grad"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        dy: &CpuStorage,
        dyl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, dy) = (
            data(x, xl, self.name())?,
            data(w, wl, self.name())?,
            data(dy, dyl, self.name())?,
        );
        let cols = w.len();
        if x.len() % cols.max(1) != 0 || dy.len() != x.len() {
            return Err(Error::Msg(format!(
                "layer norm gradient: input of {} values, weight of {cols}, gradient of {}",
                x.len(),
                dy.len()
            )));
        }
        let mut dx = vec![0f32; x.len()];
        for_row_blocks(&mut dx, cols, |first, dx| {
            let (x, dy) = (
                block_of(x, first, cols, dx.len()),
                block_of(dy, first, cols, dx.len()),
            );
            // SAFETY: `layer_norm_grad_rows` has no requirement.
            unsafe { layer_norm_grad_rows(x, w, dy, self.eps, dx) }
        });
        Ok((CpuStorage::F32(dx), xl.shape().clone()))
    }
}

simd_fn!(
    /// Add Σ dy · x̂ and Σ dy over the rows of `x` and `dy` to the two halves of `acc`
    /// (rows of `acc.len() / 2` values).
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn layer_norm_param_rows(x: &[f32], dy: &[f32], eps: f32, acc: &mut [f32]) {
        let cols = (acc.len() / 2).max(1);
        let (dw, db) = acc.split_at_mut(acc.len() / 2);
        for (x, dy) in x.chunks_exact(cols).zip(dy.chunks_exact(cols)) {
            let (mean, rstd) = row_stats(x, eps);
            for (((dw, db), x), dy) in dw.iter_mut().zip(db.iter_mut()).zip(x).zip(dy) {
                *dw += dy * (x - mean) * rstd;
                *db += dy;
            }
        }
    }
);

simd_fn!(
    /// `acc += b`, element by element.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn add_to(acc: &mut [f32], b: &[f32]) {
        acc.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    }
);

/// Element-wise sum of two partial results (rayon's `reduce`).
fn add(mut a: Vec<f32>, b: Vec<f32>) -> Vec<f32> {
    // SAFETY: `add_to` has no requirement.
    unsafe { add_to(&mut a, &b) };
    a
}

/// The weight and bias gradients of layer norm, `(2, cols)`: Σ dy · x̂ and Σ dy over
/// rows.
struct LayerNormParamGrad {
    eps: f32,
}

impl CustomOp2 for LayerNormParamGrad {
    fn name(&self) -> &'static str {
        "dialect-cpu-layer-norm-param-grad"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        dy: &CpuStorage,
        dyl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, dy) = (data(x, xl, self.name())?, data(dy, dyl, self.name())?);
        let cols = *xl.shape().dims().last().unwrap_or(&1);
        same_length(self.name(), "input", x, dy)?;
        let per = rows_per_task(cols) * cols.max(1);
        let sums = x
            .par_chunks(per)
            .zip(dy.par_chunks(per))
            .map(|(xs, dys)| {
                let mut acc = vec![0f32; 2 * cols];
                // SAFETY: `layer_norm_param_rows` has no requirement.
                unsafe { layer_norm_param_rows(xs, dys, self.eps, &mut acc) };
                acc
            })
            .reduce(|| vec![0f32; 2 * cols], add);
        Ok((CpuStorage::F32(sums), Shape::from((2, cols))))
    }
}

// ---------------------------------------------------------------- attention softmax

/// softmax(scores · scale + bias) over the last dimension: `scores` is
/// `(batch, heads, queries, keys)` f32, `bias` `(batch, keys)` (0 for tokens, a large
/// negative for padding).
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f64) -> Result<Tensor> {
    check_f32(scores.dtype(), "masked softmax")?;
    scores.contiguous()?.apply_op2(
        &bias.contiguous()?,
        MaskedSoftmax {
            scale: scale as f32,
        },
    )
}

simd_fn!(
    /// `softmax(s · scale + bias)` of each row of `s` into `y`; row `first + i` takes
    /// bias row `(first + i) / rows_per_bias` (rows of `keys` values).
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn masked_softmax_rows(
        s: &[f32],
        bias: &[f32],
        first: usize,
        rows_per_bias: usize,
        keys: usize,
        scale: f32,
        y: &mut [f32],
    ) {
        let keys = keys.max(1);
        for (i, (s, y)) in s
            .chunks_exact(keys)
            .zip(y.chunks_exact_mut(keys))
            .enumerate()
        {
            let b = (first + i) / rows_per_bias.max(1);
            let bias = &bias[b * keys..(b + 1) * keys];
            for ((y, s), bias) in y.iter_mut().zip(s).zip(bias) {
                *y = s * scale + bias;
            }
            softmax_in_place(y, 1.0);
        }
    }
);

struct MaskedSoftmax {
    scale: f32,
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "dialect-cpu-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s: &CpuStorage,
        sl: &Layout,
        bias: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (s, bias) = (data(s, sl, self.name())?, data(bias, bl, self.name())?);
        let (b, h, q, keys) = sl.shape().dims4()?;
        if bias.len() != b * keys {
            return Err(Error::Msg(format!(
                "{}: bias has {} values for {b} rows of {keys} keys",
                self.name(),
                bias.len()
            )));
        }
        let mut y = vec![0f32; s.len()];
        for_row_blocks(&mut y, keys, |first, y| {
            let s = block_of(s, first, keys, y.len());
            // SAFETY: `masked_softmax_rows` has no requirement.
            unsafe { masked_softmax_rows(s, bias, first, h * q, keys, self.scale, y) }
        });
        Ok((CpuStorage::F32(y), sl.shape().clone()))
    }

    fn bwd(
        &self,
        _scores: &Tensor,
        _bias: &Tensor,
        probs: &Tensor,
        dprobs: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dscores =
            probs.apply_op2_no_bwd(&dprobs.contiguous()?, &SoftmaxGrad { scale: self.scale })?;
        Ok((Some(dscores), None))
    }
}

simd_fn!(
    /// The scores' gradient of `softmax(scale · scores)` from its output `p` and the
    /// output's gradient `dp`, row by row (rows of `cols` values):
    /// `ds = scale · p · (dp − Σ dp · p)`.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    pub(super) unsafe fn softmax_grad_rows(
        p: &[f32],
        dp: &[f32],
        cols: usize,
        scale: f32,
        ds: &mut [f32],
    ) {
        let cols = cols.max(1);
        for ((p, dp), ds) in p
            .chunks_exact(cols)
            .zip(dp.chunks_exact(cols))
            .zip(ds.chunks_exact_mut(cols))
        {
            let dot = dot_of(p, dp);
            for ((ds, p), dp) in ds.iter_mut().zip(p).zip(dp) {
                *ds = scale * p * (dp - dot);
            }
        }
    }
);

/// d scores of [`MaskedSoftmax`] from its output and the output's gradient.
struct SoftmaxGrad {
    scale: f32,
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "dialect-cpu-softmax-grad"
    }

    fn cpu_fwd(
        &self,
        y: &CpuStorage,
        yl: &Layout,
        dy: &CpuStorage,
        dyl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (y, dy) = (data(y, yl, self.name())?, data(dy, dyl, self.name())?);
        let cols = *yl.shape().dims().last().unwrap_or(&1);
        same_length(self.name(), "output", y, dy)?;
        let mut dx = vec![0f32; y.len()];
        for_row_blocks(&mut dx, cols, |first, dx| {
            let (y, dy) = (
                block_of(y, first, cols, dx.len()),
                block_of(dy, first, cols, dx.len()),
            );
            // SAFETY: `softmax_grad_rows` has no requirement.
            unsafe { softmax_grad_rows(y, dy, cols, self.scale, dx) }
        });
        Ok((CpuStorage::F32(dx), yl.shape().clone()))
    }
}

// ---------------------------------------------------------------- linear

/// `x · wᵀ + b` for f32 `x (rows, in)`, `w (out, in)` and `b (out,)`: the product starts
/// from the bias instead of adding it in a second pass, and the backward pass gives
/// dw and db directly (no transposed copy, no broadcast reduction).
pub fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_f32(x.dtype(), "linear")?;
    x.contiguous()?
        .apply_op3(&w.contiguous()?, &b.contiguous()?, Linear)
}

struct Linear;

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "dialect-cpu-linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, inputs) = xl.shape().dims2()?;
        let (outputs, w_in) = wl.shape().dims2()?;
        let (x, w, b) = (
            data(x, xl, self.name())?,
            data(w, wl, self.name())?,
            data(b, bl, self.name())?,
        );
        if w_in != inputs || b.len() != outputs {
            return Err(Error::Msg(format!(
                "linear: input {:?}, weight {:?} and bias of {} do not fit",
                xl.dims(),
                wl.dims(),
                b.len()
            )));
        }
        let mut y: Vec<f32> = Vec::with_capacity(rows * outputs);
        for _ in 0..rows {
            y.extend_from_slice(b);
        }
        if rows * outputs * inputs > 0 {
            let threads = candle_core::utils::get_num_threads();
            let parallelism = if threads > 1 {
                gemm::Parallelism::Rayon(threads)
            } else {
                gemm::Parallelism::None
            };
            // SAFETY: y is rows × outputs, x rows × inputs and w outputs × inputs, all
            // contiguous; wᵀ is read through w's strides.
            unsafe {
                gemm::gemm(
                    rows,
                    outputs,
                    inputs,
                    y.as_mut_ptr(),
                    1,
                    outputs as isize,
                    true,
                    x.as_ptr(),
                    1,
                    inputs as isize,
                    w.as_ptr(),
                    inputs as isize,
                    1,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    parallelism,
                )
            }
        }
        Ok((CpuStorage::F32(y), Shape::from((rows, outputs))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = dy.matmul(&w.detach())?;
        let dw = dy.t()?.matmul(&x.detach())?;
        let db = dy.apply_op1_no_bwd(&ColumnSums)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

simd_fn!(
    /// Add each row of `rows` (rows of `acc.len()` values) to `acc`.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn add_rows(rows: &[f32], acc: &mut [f32]) {
        for row in rows.chunks_exact(acc.len().max(1)) {
            acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
        }
    }
);

/// Σ over rows of a `(rows, cols)` f32 matrix, `(cols,)`.
struct ColumnSums;

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "dialect-cpu-column-sums"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, cols) = xl.shape().dims2()?;
        let x = data(x, xl, self.name())?;
        let per = rows_per_task(cols) * cols.max(1);
        let sums = x
            .par_chunks(per)
            .map(|rows| {
                let mut acc = vec![0f32; cols];
                // SAFETY: `add_rows` has no requirement.
                unsafe { add_rows(rows, &mut acc) };
                acc
            })
            .reduce(|| vec![0f32; cols], add);
        Ok((CpuStorage::F32(sums), Shape::from(cols)))
    }
}

// ---------------------------------------------------------------- batched matmul

/// `a · b` for `a (n, m, k)` and `b (n, k, p)` (any strides within each matrix, e.g. a
/// transposed view), f32: the n products run in parallel, each on one thread.
pub fn batched_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_f32(a.dtype(), "batched matmul")?;
    a.apply_op2(b, BatchedMatMul)
}

struct BatchedMatMul;

/// The storage of a rank-3 op input from its start offset, with its strides.
fn strided<'a>(s: &'a CpuStorage, l: &Layout) -> Result<(&'a [f32], [usize; 3])> {
    let st = l.stride();
    if st.len() != 3 {
        return Err(Error::Msg(format!(
            "batched matmul: expected rank 3, got {:?}",
            l.dims()
        )));
    }
    Ok((
        &s.as_slice::<f32>()?[l.start_offset()..],
        [st[0], st[1], st[2]],
    ))
}

impl CustomOp2 for BatchedMatMul {
    fn name(&self) -> &'static str {
        "dialect-cpu-batched-matmul"
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        al: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, m, k) = al.shape().dims3()?;
        let (n2, k2, p) = bl.shape().dims3()?;
        if n != n2 || k != k2 {
            return Err(Error::Msg(format!(
                "batched matmul: shapes {:?} and {:?} do not multiply",
                al.dims(),
                bl.dims()
            )));
        }
        let ((a, sa), (b, sb)) = (strided(a, al)?, strided(b, bl)?);
        // Every matrix must lie inside its storage (strides of a view are in range).
        let last = |s: [usize; 3], rows: usize, cols: usize| {
            (n.max(1) - 1) * s[0] + (rows.max(1) - 1) * s[1] + (cols.max(1) - 1) * s[2]
        };
        if n * m * k > 0 && last(sa, m, k) >= a.len() || n * k * p > 0 && last(sb, k, p) >= b.len()
        {
            return Err(Error::Msg(
                "batched matmul: a view reaches past its storage".into(),
            ));
        }
        let mut c = vec![0f32; n * m * p];
        if m * p > 0 {
            c.par_chunks_mut(m * p).enumerate().for_each(|(i, c)| {
                // SAFETY: the bounds of every matrix of a and b were checked above; c is
                // this product's own contiguous m × p block.
                unsafe {
                    gemm::gemm(
                        m,
                        p,
                        k,
                        c.as_mut_ptr(),
                        1,
                        p as isize,
                        false,
                        a.as_ptr().add(i * sa[0]),
                        sa[2] as isize,
                        sa[1] as isize,
                        b.as_ptr().add(i * sb[0]),
                        sb[2] as isize,
                        sb[1] as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    )
                }
            });
        }
        Ok((CpuStorage::F32(c), Shape::from((n, m, p))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        dc: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let da = batched_matmul(dc, &b.t()?)?;
        let db = batched_matmul(&a.t()?, dc)?;
        Ok((Some(da), Some(db)))
    }
}

// ---------------------------------------------------------------- dropout

/// Inverted dropout of an f32 `x` with probability `p`: each element is kept by a
/// counter-based hash of `seed` and its index (the same hash as the CUDA kernel, so
/// both devices draw the same mask from a seed), so the backward pass regenerates the
/// mask instead of storing it.
pub fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    check_f32(x.dtype(), "dropout")?;
    x.contiguous()?
        .apply_op1(Dropout(DropoutMask::new(p, seed)))
}

/// Which elements inverted dropout keeps, element `i` by the hash of (seed, i), and
/// the scale the kept ones get.
#[derive(Debug, Clone, Copy)]
pub(super) struct DropoutMask {
    seed: u64,
    threshold: u32,
    scale: f32,
}

impl DropoutMask {
    pub(super) fn new(p: f64, seed: u64) -> Self {
        Self {
            seed,
            // Keep where the 32-bit hash ≥ p · 2³².
            threshold: (p * 4_294_967_296.0).min(4_294_967_295.0) as u32,
            scale: (1.0 / (1.0 - p)) as f32,
        }
    }

    /// Element `i` of value `x` after dropout: `x · scale` if kept, else 0.
    #[inline(always)]
    pub(super) fn apply(&self, i: u64, x: f32) -> f32 {
        if hash_u32(self.seed, i) >= self.threshold {
            x * self.scale
        } else {
            0.0
        }
    }
}

simd_fn!(
    /// Apply `mask` in place to `x`, whose first element is element `first` of the
    /// masked tensor.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    pub(super) unsafe fn dropout_in_place(mask: &DropoutMask, first: u64, x: &mut [f32]) {
        for (i, x) in x.iter_mut().enumerate() {
            *x = mask.apply(first + i as u64, *x);
        }
    }
);

/// splitmix64's finaliser over `seed + (i + 1)·φ`, high 32 bits (`hash_u32` in
/// kernels.cu).
#[inline(always)]
fn hash_u32(seed: u64, i: u64) -> u32 {
    let mut z = seed.wrapping_add((i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 32) as u32
}

#[derive(Clone, Copy)]
struct Dropout(DropoutMask);

impl CustomOp1 for Dropout {
    fn name(&self) -> &'static str {
        "dialect-cpu-dropout"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let mut y = data(x, xl, self.name())?.to_vec();
        y.par_chunks_mut(TASK_ELEMS)
            .enumerate()
            .for_each(|(task, y)| {
                // SAFETY: `dropout_in_place` has no requirement.
                unsafe { dropout_in_place(&self.0, (task * TASK_ELEMS) as u64, y) }
            });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        // The same mask and scale, applied to the gradient.
        Ok(Some(dy.contiguous()?.apply_op1_no_bwd(self)?))
    }
}

// ---------------------------------------------------------------- GELU

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / sqrt(2π).
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// Exact (erf) GELU of an f32 tensor.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    check_f32(x.dtype(), "gelu")?;
    x.contiguous()?.apply_op1(Gelu)
}

/// erf for f32: Eigen's and XLA's rational approximation on [−4, 4] (outside it erf
/// is ±1 in f32), within a few ulp, branch-free so that it vectorises.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p - 2.101_024e-6;
    p = x2 * p - 5.692_506_4e-5;
    p = x2 * p - 7.349_906_3e-4;
    p = x2 * p - 2.954_600_1e-3;
    p = x2 * p - 1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
    q = x2 * q - 1.682_827e-3;
    q = x2 * q - 7.373_329e-3;
    q = x2 * q - 1.426_474e-2;
    x * p / q
}

/// Exact (erf) GELU of one value.
#[inline(always)]
pub(super) fn gelu_value(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * FRAC_1_SQRT_2))
}

/// `f(a, b, out)` over matching blocks of equal-length `a`, `b` and a new `out`, in
/// parallel.
fn zip_blocks(a: &[f32], b: &[f32], f: impl Fn(&[f32], &[f32], &mut [f32]) + Sync) -> Vec<f32> {
    let mut out = vec![0f32; a.len()];
    out.par_chunks_mut(TASK_ELEMS)
        .zip(a.par_chunks(TASK_ELEMS).zip(b.par_chunks(TASK_ELEMS)))
        .for_each(|(o, (a, b))| f(a, b, o));
    out
}

simd_fn!(
    /// `y = GELU(x)`, element by element.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn gelu_block(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = gelu_value(x);
        }
    }
);

simd_fn!(
    /// `dx = dy · (Φ(x) + x · φ(x))`, element by element.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn gelu_grad_block(x: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
            let cdf = 0.5 * (1.0 + erf(x * FRAC_1_SQRT_2));
            let pdf = FRAC_1_SQRT_2PI * exp(-0.5 * x * x);
            *dx = dy * (cdf + x * pdf);
        }
    }
);

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "dialect-cpu-gelu"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = data(x, xl, self.name())?;
        // SAFETY: `gelu_block` has no requirement.
        let y = zip_blocks(x, x, |x, _, y| unsafe { gelu_block(x, y) });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&dy.contiguous()?, &GeluGrad)?))
    }
}

/// dx of [`Gelu`] from (x, dy).
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "dialect-cpu-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        dy: &CpuStorage,
        dyl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, dy) = (data(x, xl, self.name())?, data(dy, dyl, self.name())?);
        same_length(self.name(), "input", x, dy)?;
        // SAFETY: `gelu_grad_block` has no requirement.
        let dx = zip_blocks(x, dy, |x, dy, dx| unsafe { gelu_grad_block(x, dy, dx) });
        Ok((CpuStorage::F32(dx), xl.shape().clone()))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use candle_core::{Device, Var, D};

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        for i in 0..=2_000_000 {
            let x = -100.0 + i as f32 * 9.4e-5;
            let (got, want) = (exp(x), x.exp());
            if want < f32::MIN_POSITIVE {
                assert!(got < 1.2e-38, "exp({x}) = {got}");
                continue;
            }
            worst = worst.max(((got - want) / want).abs() as f64 / f64::from(f32::EPSILON));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e9), 0.0);
    }

    pub(in crate::model) fn random(shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        let mut state = seed;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect();
        Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
    }

    pub(in crate::model) fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    /// Values and gradients of `fused` and `composed` (as functions of the same
    /// variables, weighted by a fixed random cotangent) agree.
    fn agree(
        inputs: &[Tensor],
        fused: impl Fn(&[Tensor]) -> Tensor,
        composed: impl Fn(&[Tensor]) -> Tensor,
    ) {
        let vars: Vec<Var> = inputs
            .iter()
            .map(|t| Var::from_tensor(t).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let (a, b) = (fused(&ts), composed(&ts));
        assert!(
            max_diff(&a, &b) < 1e-5,
            "values differ by {}",
            max_diff(&a, &b)
        );
        let cot = random(a.dims(), 99);
        let ga = (&a * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (&b * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        for (i, t) in ts.iter().enumerate() {
            match (ga.get(t), gb.get(t)) {
                (Some(x), Some(y)) => {
                    assert!(
                        max_diff(x, y) < 1e-4,
                        "gradient {i} differs by {}",
                        max_diff(x, y)
                    )
                }
                (x, y) => assert_eq!(x.is_some(), y.is_some(), "gradient {i} presence"),
            }
        }
    }

    #[test]
    fn layer_norm_matches_the_composed_ops() {
        // Rows enough to be split over several tasks.
        let inputs = [
            random(&[3, 70, 384], 1),
            random(&[384], 2),
            random(&[384], 3),
        ];
        agree(
            &inputs,
            |t| layer_norm(&t[0], &t[1], &t[2], 1e-12).unwrap(),
            |t| {
                let mean = t[0].mean_keepdim(D::Minus1).unwrap();
                let c = t[0].broadcast_sub(&mean).unwrap();
                let var = c.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
                c.broadcast_div(&(var + 1e-12).unwrap().sqrt().unwrap())
                    .unwrap()
                    .broadcast_mul(&t[1])
                    .unwrap()
                    .broadcast_add(&t[2])
                    .unwrap()
            },
        );
    }

    #[test]
    fn masked_softmax_matches_the_composed_ops() {
        let (b, h, q, k) = (3, 4, 20, 20);
        let mask: Vec<f32> = (0..b * k)
            .map(|i| if i % k < k - 3 * (i / k) { 0.0 } else { -1e9 })
            .collect();
        let bias = Tensor::from_vec(mask, (b, k), &Device::Cpu).unwrap();
        let inputs = [random(&[b, h, q, k], 4)];
        agree(
            &inputs,
            |t| masked_softmax(&t[0], &bias, 0.125).unwrap(),
            |t| {
                let s = (&t[0] * 0.125)
                    .unwrap()
                    .broadcast_add(&bias.reshape((b, 1, 1, k)).unwrap())
                    .unwrap();
                candle_nn::ops::softmax(&s, D::Minus1).unwrap()
            },
        );
    }

    #[test]
    fn gelu_matches_the_composed_op() {
        let inputs = [(random(&[5, 70, 100], 5) * 3.0).unwrap()];
        agree(
            &inputs,
            |t| gelu(&t[0]).unwrap(),
            |t| t[0].gelu_erf().unwrap(),
        );
    }

    #[test]
    fn erf_is_within_a_few_ulp() {
        for i in -600..=600 {
            let x = i as f32 / 100.0;
            let (ours, exact) = (erf(x), libm::erf(x as f64) as f32);
            assert!(
                (ours - exact).abs() <= 4.0 * f32::EPSILON,
                "erf({x}) = {ours}, not {exact}"
            );
        }
    }

    #[test]
    fn batched_matmul_matches_candle_on_transposed_views() {
        let inputs = [random(&[6, 9, 5], 6), random(&[6, 7, 5], 7)];
        agree(
            &inputs,
            |t| batched_matmul(&t[0], &t[1].t().unwrap()).unwrap(),
            |t| t[0].matmul(&t[1].t().unwrap()).unwrap(),
        );
        let a = random(&[2, 3, 4], 8);
        assert!(batched_matmul(&a, &a).is_err());
    }

    #[test]
    fn linear_matches_the_composed_ops() {
        // Rows enough to be split over several tasks in the bias gradient.
        let inputs = [
            random(&[300, 70], 9),
            random(&[50, 70], 10),
            random(&[50], 11),
        ];
        agree(
            &inputs,
            |t| linear(&t[0], &t[1], &t[2]).unwrap(),
            |t| {
                t[0].matmul(&t[1].t().unwrap())
                    .unwrap()
                    .broadcast_add(&t[2])
                    .unwrap()
            },
        );
    }

    #[test]
    fn dropout_keeps_one_minus_p_scaled_and_its_gradient_reuses_the_mask() {
        let x =
            Var::from_tensor(&Tensor::ones(100_000, DType::F32, &Device::Cpu).unwrap()).unwrap();
        let y = dropout(x.as_tensor(), 0.25, 42).unwrap();
        let values = y.to_vec1::<f32>().unwrap();
        let kept = values.iter().filter(|&&v| v != 0.0).count() as f32 / 100_000.0;
        assert!((kept - 0.75).abs() < 0.01, "kept {kept}");
        assert!(values
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        let grads = (&y * 3.0).unwrap().sum_all().unwrap().backward().unwrap();
        let g = grads.get(x.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        assert!(g
            .iter()
            .zip(&values)
            .all(|(g, v)| (g - 3.0 * v).abs() < 1e-5));
        // Another seed, another mask.
        let other = dropout(x.as_tensor(), 0.25, 43)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_ne!(other, values);
    }

    #[test]
    fn other_dtypes_are_refused() {
        let x = Tensor::zeros((2, 4), DType::F16, &Device::Cpu).unwrap();
        assert!(gelu(&x).unwrap_err().to_string().contains("f32"));
    }
}
