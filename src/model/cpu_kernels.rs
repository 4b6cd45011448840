//! Fused CPU kernels for the ops candle composes from many small ones: layer norm,
//! the attention softmax (scale and padding mask folded in) and exact GELU, each with a
//! fused backward. One pass per row instead of five to ten whole-tensor ops, and one
//! saved tensor per op instead of one per intermediate. Rows are shared out over
//! rayon's pool, the threads candle's matrix products use. f32 only: the CPU computes
//! in f32.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Error, Layout, Result, Shape, Tensor,
};
use rayon::prelude::*;

/// Elements each parallel task handles at least (smaller tensors stay on one thread).
const TASK_ELEMS: usize = 16 * 1024;

/// The contiguous f32 data of an op input.
fn data<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
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

/// Apply `f(row_index, out_row)` to every row (of `cols` elements) of `out`, in
/// parallel.
fn for_rows(out: &mut [f32], cols: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let per = rows_per_task(cols);
    out.par_chunks_mut(per * cols)
        .enumerate()
        .for_each(|(task, chunk)| {
            for (i, row) in chunk.chunks_mut(cols).enumerate() {
                f(task * per + i, row);
            }
        });
}

/// Row `r` of a row-major matrix with `cols` columns.
fn row(x: &[f32], r: usize, cols: usize) -> &[f32] {
    &x[r * cols..(r + 1) * cols]
}

fn check_f32(dtype: DType, op: &str) -> Result<()> {
    if dtype == DType::F32 {
        Ok(())
    } else {
        Err(Error::Msg(format!("{op}: the CPU kernels take f32, got {dtype:?}")))
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
fn row_stats(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len().max(1) as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

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
        let mut y = vec![0f32; x.len()];
        for_rows(&mut y, cols, |r, y| {
            let x = row(x, r, cols);
            let (mean, rstd) = row_stats(x, self.eps);
            for i in 0..cols {
                y[i] = (x[i] - mean) * rstd * w[i] + b[i];
            }
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

/// dx of layer norm from (x, weight, dy): rstd · (g − mean(g) − x̂ · mean(g · x̂)),
/// g = dy · weight.
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
        let n = cols.max(1) as f32;
        let mut dx = vec![0f32; x.len()];
        for_rows(&mut dx, cols, |r, dx| {
            let (x, dy) = (row(x, r, cols), row(dy, r, cols));
            let (mean, rstd) = row_stats(x, self.eps);
            let (mut sum_g, mut sum_gx) = (0f32, 0f32);
            for i in 0..cols {
                let g = dy[i] * w[i];
                sum_g += g;
                sum_gx += g * (x[i] - mean) * rstd;
            }
            let (mean_g, mean_gx) = (sum_g / n, sum_gx / n);
            for i in 0..cols {
                let xhat = (x[i] - mean) * rstd;
                dx[i] = rstd * (dy[i] * w[i] - mean_g - xhat * mean_gx);
            }
        });
        Ok((CpuStorage::F32(dx), xl.shape().clone()))
    }
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
        let per = rows_per_task(cols) * cols;
        let sums = x
            .par_chunks(per)
            .zip(dy.par_chunks(per))
            .map(|(xs, dys)| {
                let mut acc = vec![0f32; 2 * cols];
                for (x, dy) in xs.chunks(cols).zip(dys.chunks(cols)) {
                    let (mean, rstd) = row_stats(x, self.eps);
                    for i in 0..cols {
                        acc[i] += dy[i] * (x[i] - mean) * rstd;
                        acc[cols + i] += dy[i];
                    }
                }
                acc
            })
            .reduce(
                || vec![0f32; 2 * cols],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                    a
                },
            );
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
        let rows_per_batch = (h * q).max(1);
        let mut y = vec![0f32; s.len()];
        for_rows(&mut y, keys, |r, y| {
            let (s, bias) = (row(s, r, keys), row(bias, r / rows_per_batch, keys));
            let mut max = f32::NEG_INFINITY;
            for i in 0..keys {
                y[i] = s[i] * self.scale + bias[i];
                max = max.max(y[i]);
            }
            let mut sum = 0f32;
            for v in y.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            let inv = 1.0 / sum;
            y.iter_mut().for_each(|v| *v *= inv);
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
        let dscores = probs.apply_op2_no_bwd(
            &dprobs.contiguous()?,
            &SoftmaxGrad { scale: self.scale },
        )?;
        Ok((Some(dscores), None))
    }
}

/// d scores = scale · y · (dy − Σ dy · y), row by row.
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
        let mut dx = vec![0f32; y.len()];
        for_rows(&mut dx, cols, |r, dx| {
            let (y, dy) = (row(y, r, cols), row(dy, r, cols));
            let dot: f32 = y.iter().zip(dy).map(|(a, b)| a * b).sum();
            for i in 0..cols {
                dx[i] = self.scale * y[i] * (dy[i] - dot);
            }
        });
        Ok((CpuStorage::F32(dx), yl.shape().clone()))
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

/// Map every element of the contiguous inputs through `f`, in parallel.
fn map_elems(ins: &[&[f32]], f: impl Fn(&[f32]) -> f32 + Sync) -> Vec<f32> {
    let n = ins.first().map_or(0, |x| x.len());
    let mut out = vec![0f32; n];
    out.par_chunks_mut(TASK_ELEMS)
        .enumerate()
        .for_each(|(task, chunk)| {
            let start = task * TASK_ELEMS;
            let mut args = vec![0f32; ins.len()];
            for (i, o) in chunk.iter_mut().enumerate() {
                for (a, x) in args.iter_mut().zip(ins) {
                    *a = x[start + i];
                }
                *o = f(&args);
            }
        });
    out
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "dialect-cpu-gelu"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = data(x, xl, self.name())?;
        let y = map_elems(&[x], |a| {
            0.5 * a[0] * (1.0 + libm::erff(a[0] * FRAC_1_SQRT_2))
        });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&dy.contiguous()?, &GeluGrad)?))
    }
}

/// dx = dy · (Φ(x) + x · φ(x)).
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
        let dx = map_elems(&[x, dy], |a| {
            let (x, dy) = (a[0], a[1]);
            let cdf = 0.5 * (1.0 + libm::erff(x * FRAC_1_SQRT_2));
            let pdf = FRAC_1_SQRT_2PI * (-0.5 * x * x).exp();
            dy * (cdf + x * pdf)
        });
        Ok((CpuStorage::F32(dx), xl.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var, D};

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        let mut state = seed;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect();
        Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
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
        let vars: Vec<Var> = inputs.iter().map(|t| Var::from_tensor(t).unwrap()).collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let (a, b) = (fused(&ts), composed(&ts));
        assert!(max_diff(&a, &b) < 1e-5, "values differ by {}", max_diff(&a, &b));
        let cot = random(a.dims(), 99);
        let ga = (&a * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (&b * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        for (i, t) in ts.iter().enumerate() {
            match (ga.get(t), gb.get(t)) {
                (Some(x), Some(y)) => {
                    assert!(max_diff(x, y) < 1e-4, "gradient {i} differs by {}", max_diff(x, y))
                }
                (x, y) => assert_eq!(x.is_some(), y.is_some(), "gradient {i} presence"),
            }
        }
    }

    #[test]
    fn layer_norm_matches_the_composed_ops() {
        // Rows enough to be split over several tasks.
        let inputs = [random(&[3, 70, 384], 1), random(&[384], 2), random(&[384], 3)];
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
        agree(&inputs, |t| gelu(&t[0]).unwrap(), |t| t[0].gelu_erf().unwrap());
    }

    #[test]
    fn other_dtypes_are_refused() {
        let x = Tensor::zeros((2, 4), DType::F16, &Device::Cpu).unwrap();
        assert!(gelu(&x).unwrap_err().to_string().contains("f32"));
    }
}
