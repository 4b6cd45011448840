//! The attention's batched matrix products: one whole small product per thread
//! (candle splits each of the batch's products over all threads in turn).

use super::check_f32;
use candle_core::{CpuStorage, CustomOp2, Error, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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

#[cfg(test)]
mod tests {
    use super::super::tests::{agree, random};
    use super::*;

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
}
