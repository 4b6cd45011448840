//! AdamW's update of an f32 CPU parameter and its host moments: one pass, no
//! temporaries, shared out over rayon's threads, the loop compiled for the CPU's
//! vector path (`simd_fn!`).

use super::EPS;
use crate::kernels::simd_fn;
use candle_core::{CpuStorage, Layout};
use rayon::prelude::*;
use std::cell::RefCell;

/// Parameter values each parallel task of the CPU update takes.
const UPDATE_CHUNK: usize = 64 * 1024;

/// The scalars of one AdamW update.
#[derive(Clone, Copy)]
pub(super) struct Update {
    pub(super) clip: f32,
    pub(super) decay: f32,
    pub(super) b1: f32,
    pub(super) b2: f32,
    pub(super) step_size: f32,
    pub(super) bc2_sqrt: f32,
}

simd_fn!(
    /// AdamW on one chunk of a parameter, its gradient and its moments, in place.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn update_chunk(
        theta: &mut [f32],
        grad: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        u: Update,
    ) {
        let eps = EPS as f32;
        for (((p, &g), m), v) in theta
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            let g = g * u.clip;
            *m = *m * u.b1 + g * (1.0 - u.b1);
            *v = *v * u.b2 + g * g * (1.0 - u.b2);
            let denom = v.sqrt() / u.bc2_sqrt + eps;
            *p = *p * u.decay - u.step_size * (*m / denom);
        }
    }
);

/// One AdamW update of a contiguous f32 CPU parameter from its gradient, in place:
/// the same arithmetic as the tensor path, in one pass with no temporaries, shared
/// out over rayon's threads.
pub(super) struct FusedAdamW<'a> {
    pub(super) m: RefCell<&'a mut Vec<f32>>,
    pub(super) v: RefCell<&'a mut Vec<f32>>,
    pub(super) update: Update,
}

impl candle_core::InplaceOp2 for FusedAdamW<'_> {
    fn name(&self) -> &'static str {
        "fused-adamw"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(theta), CpuStorage::F32(grad)) = (s1, s2) else {
            candle_core::bail!("fused-adamw: f32 storage expected");
        };
        let (Some((t0, t1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("fused-adamw: contiguous tensors expected");
        };
        let (theta, grad) = (&mut theta[t0..t1], &grad[g0..g1]);
        let (mut m, mut v) = (self.m.borrow_mut(), self.v.borrow_mut());
        if theta.len() != grad.len() || m.len() != theta.len() || v.len() != theta.len() {
            candle_core::bail!("fused-adamw: size mismatch");
        }
        let u = self.update;
        theta
            .par_chunks_mut(UPDATE_CHUNK)
            .zip(grad.par_chunks(UPDATE_CHUNK))
            .zip(m.par_chunks_mut(UPDATE_CHUNK))
            .zip(v.par_chunks_mut(UPDATE_CHUNK))
            // SAFETY: `update_chunk` has no requirement.
            .for_each(|(((p, g), m), v)| unsafe { update_chunk(p, g, m, v, u) });
        Ok(())
    }
}
