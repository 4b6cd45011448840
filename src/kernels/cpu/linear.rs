//! A dense layer `x · wᵀ + b` as one product that starts from the bias, with its
//! backward (dx, dw by candle's products; db as column sums in one parallel pass).

use super::{add, check_f32, data, rows_per_task, simd_fn};
use candle_core::{CpuStorage, CustomOp1, CustomOp3, Error, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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

#[cfg(test)]
mod tests {
    use super::super::tests::{agree, random};
    use super::*;

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
}
