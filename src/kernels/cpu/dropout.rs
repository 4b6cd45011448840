//! Inverted dropout whose mask is a counter-based hash of a seed and each element's
//! index (the CUDA kernel's hash), so the backward pass regenerates it.

use super::{check_f32, data, simd_fn, TASK_ELEMS};
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

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
}
