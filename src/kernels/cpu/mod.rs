//! Fused CPU kernels for the ops candle composes from many small ones: layer norm,
//! the attention softmax (scale and padding mask folded in), exact GELU, dropout and
//! the dense layer, each with a fused backward; one pass per row instead of five to
//! ten whole-tensor ops, and one saved tensor per op instead of one per
//! intermediate. Also the attention's batched products and the attention of
//! padding-free batches. Rows are shared out over rayon's pool, the threads candle's
//! matrix products use. f32 only: the CPU computes in f32. The helpers here are what
//! the op modules share.

mod dropout;
mod gelu;
mod linear;
mod math;
mod matmul;
mod norm;
mod ragged_attention;
mod simd;
mod softmax;

pub(super) use dropout::dropout;
pub(super) use gelu::gelu;
pub(crate) use gelu::gelu_value;
pub(super) use linear::linear;
pub(crate) use math::min_max_of;
pub(super) use matmul::batched_matmul;
pub(super) use norm::layer_norm;
pub(super) use ragged_attention::ragged_attention;
pub(crate) use simd::simd_fn;
pub use simd::SimdPath;
pub(super) use softmax::masked_softmax;

use candle_core::{CpuStorage, DType, Error, Layout, Result};
use rayon::prelude::*;

/// Elements each parallel task handles at least (smaller tensors stay on one thread).
const TASK_ELEMS: usize = 16 * 1024;

/// The contiguous f32 data of an op input.
pub(crate) fn data<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
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

/// A pointer that tasks writing disjoint parts of one buffer share.
#[derive(Clone, Copy)]
pub(crate) struct Shared(pub(crate) *mut f32);
// SAFETY: every task writes only its own (row range, head columns) block.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// The pointer (a method, so that closures capture the whole `Shared`).
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// Test inputs and checks the kernels' tests share.
#[cfg(test)]
pub(crate) mod tests {
    use candle_core::{Device, Tensor, Var};

    pub(crate) fn random(shape: &[usize], seed: u64) -> Tensor {
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

    pub(crate) fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
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
    pub(super) fn agree(
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
}
