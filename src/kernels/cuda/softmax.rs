//! The attention softmax, `softmax(scores · scale + bias)` with the padding mask as
//! `bias`, with its backward, one warp per row.

use super::{cpu_unsupported, kernel, rows_cols, rows_config, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{DeviceRepr, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType,
};
use half::bf16;

/// softmax(scores · scale + bias) over the last dimension. `scores` is
/// `(batch, heads, queries, keys)`; `bias` is `(batch, keys)` f32 (0 for tokens, a large
/// negative for padding). The result has the scores' dtype.
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f64) -> Result<Tensor> {
    let (b, h, q, _) = scores.dims4()?;
    let bias = bias.to_dtype(DType::F32)?.contiguous()?;
    if bias.dim(0)? != b {
        bail!(
            "masked softmax: bias batch {} ≠ scores batch {b}",
            bias.dim(0)?
        );
    }
    scores.contiguous()?.apply_op2(
        &bias,
        MaskedSoftmax {
            scale: scale as f32,
            rows_per_batch: (h * q) as i32,
        },
    )
}

struct MaskedSoftmax {
    scale: f32,
    rows_per_batch: i32,
}

fn masked_softmax_fwd<T: CudaDType + DeviceRepr + WithDType>(
    op: &MaskedSoftmax,
    x: &CudaStorage,
    xl: &Layout,
    bias: &CudaStorage,
    bl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let (rows, r, c) = rows_cols(xl)?;
    if bl.shape().elem_count() * op.rows_per_batch as usize != rows * c as usize {
        bail!(
            "masked softmax: bias shape {:?} does not fit scores {:?}",
            bl.dims(),
            xl.dims()
        );
    }
    let (xv, bv) = (view::<T>(x, xl)?, view::<f32>(bias, bl)?);
    // SAFETY: the kernel writes every element.
    let mut y = unsafe { dev.alloc::<T>(xl.shape().elem_count())? };
    let func = kernel(dev, "masked_softmax_fwd", T::DTYPE)?;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv)
        .arg(&bv)
        .arg(&mut y)
        .arg(&r)
        .arg(&c)
        .arg(&op.rows_per_batch)
        .arg(&op.scale);
    // SAFETY: rows × cols elements in x and y; (rows / rows_per_batch) × cols in bias.
    unsafe { args.launch(rows_config(rows)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(y, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "dialect-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        bias: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        by_dtype!(
            x.dtype(),
            self.name(),
            masked_softmax_fwd(self, x, xl, bias, bl)
        )
    }

    fn bwd(
        &self,
        _scores: &Tensor,
        _bias: &Tensor,
        probs: &Tensor,
        dprobs: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dprobs = dprobs.to_dtype(probs.dtype())?.contiguous()?;
        let dx = probs.apply_op2_no_bwd(&dprobs, &SoftmaxGrad { scale: self.scale })?;
        Ok((Some(dx), None))
    }
}

/// d scores from (probs, d probs).
struct SoftmaxGrad {
    scale: f32,
}

fn softmax_grad<T: CudaDType + DeviceRepr + WithDType>(
    scale: f32,
    y: &CudaStorage,
    yl: &Layout,
    dy: &CudaStorage,
    dyl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = y.device();
    let (rows, r, c) = rows_cols(yl)?;
    let (yv, dyv) = (view::<T>(y, yl)?, view::<T>(dy, dyl)?);
    // SAFETY: the kernel writes every element.
    let mut dx = unsafe { dev.alloc::<T>(yl.shape().elem_count())? };
    let func = kernel(dev, "masked_softmax_bwd", T::DTYPE)?;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&yv)
        .arg(&dyv)
        .arg(&mut dx)
        .arg(&r)
        .arg(&c)
        .arg(&scale);
    // SAFETY: rows × cols elements in y, dy and dx.
    unsafe { args.launch(rows_config(rows)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(dx, dev.clone()),
        yl.shape().clone(),
    ))
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "dialect-softmax-grad"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(
        &self,
        y: &CudaStorage,
        yl: &Layout,
        dy: &CudaStorage,
        dyl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        by_dtype!(
            y.dtype(),
            self.name(),
            softmax_grad(self.scale, y, yl, dy, dyl)
        )
    }
}
