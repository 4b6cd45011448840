//! Exact (erf) GELU with its fused backward, and the branch-free `erf` it uses.

use super::math::exp;
use super::{check_f32, data, same_length, simd_fn, TASK_ELEMS};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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
pub(crate) fn gelu_value(x: f32) -> f32 {
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
mod tests {
    use super::super::tests::{agree, random};
    use super::*;
    use candle_core::{DType, Device};

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
    fn other_dtypes_are_refused() {
        let x = Tensor::zeros((2, 4), DType::F16, &Device::Cpu).unwrap();
        assert!(gelu(&x).unwrap_err().to_string().contains("f32"));
    }
}
