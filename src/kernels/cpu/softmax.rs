//! The attention softmax, `softmax(scores · scale + bias)` with the padding mask as
//! `bias`, with its fused backward; and the row softmax pieces ragged attention shares.

use super::math::{dot_of, exp, max_of, sum_of};
use super::{block_of, check_f32, data, for_row_blocks, same_length, simd_fn};
use candle_core::{CpuStorage, CustomOp2, Error, Layout, Result, Shape, Tensor};

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

/// `softmax(scale · row)` in place (`scale` > 0).
#[inline(always)]
pub(super) fn softmax_in_place(row: &mut [f32], scale: f32) {
    let max = max_of(row);
    row.iter_mut().for_each(|s| *s = exp((*s - max) * scale));
    let inv = 1.0 / sum_of(row);
    row.iter_mut().for_each(|s| *s *= inv);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{agree, random};
    use super::*;
    use candle_core::{Device, D};

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
}
