//! Layer norm over the last dimension, one pass per row, with its fused backward
//! (input gradient row by row; weight and bias gradients summed over row blocks).

use super::math::{dot_of, sum_of, LANES};
use super::{add, block_of, check_f32, data, for_row_blocks, rows_per_task, same_length, simd_fn};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Error, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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

#[cfg(test)]
mod tests {
    use super::super::tests::{agree, random};
    use super::*;
    use candle_core::D;

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
}
