//! Layer norm (f32 or bf16 input, f32 weight, bias and output) with its backward:
//! the input gradient in one kernel, the weight and bias gradients from x̂.

use super::{cpu_unsupported, kernel, rows_cols, rows_config, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{DeviceRepr, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp1, CustomOp3, DType, Layout, Result, Shape, Tensor,
    WithDType,
};
use half::bf16;

/// Layer norm over the last dimension of `x` (f32 or bf16) with f32 weight and bias;
/// the result is f32.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    x.contiguous()?
        .apply_op3(weight, bias, LayerNorm { eps: eps as f32 })
}

struct LayerNorm {
    eps: f32,
}

fn layer_norm_fwd<T: CudaDType + DeviceRepr + WithDType>(
    eps: f32,
    x: &CudaStorage,
    xl: &Layout,
    w: &CudaStorage,
    wl: &Layout,
    b: &CudaStorage,
    bl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let (rows, r, c) = rows_cols(xl)?;
    let (xv, wv, bv) = (view::<T>(x, xl)?, view::<f32>(w, wl)?, view::<f32>(b, bl)?);
    // SAFETY: the kernel writes every element.
    let mut y = unsafe { dev.alloc::<f32>(xl.shape().elem_count())? };
    let func = kernel(dev, "layer_norm_fwd", T::DTYPE)?;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv)
        .arg(&wv)
        .arg(&bv)
        .arg(&mut y)
        .arg(&r)
        .arg(&c)
        .arg(&eps);
    // SAFETY: rows × cols elements in x and y, cols in w and b.
    unsafe { args.launch(rows_config(rows)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(y, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "dialect-layer-norm"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
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
        w: &CudaStorage,
        wl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        by_dtype!(
            x.dtype(),
            self.name(),
            layer_norm_fwd(self.eps, x, xl, w, wl, b, bl)
        )
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.to_dtype(DType::F32)?.contiguous()?;
        let dx = x.apply_op3_no_bwd(w, &dy, &LayerNormInputGrad { eps: self.eps })?;
        let xhat = x.apply_op1_no_bwd(&LayerNormNormalise { eps: self.eps })?;
        let cols = w.dim(0)?;
        let rows = dy.elem_count() / cols;
        let dy = dy.reshape((rows, cols))?;
        let dw = dy.mul(&xhat.reshape((rows, cols))?)?.sum(0)?;
        let db = dy.sum(0)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// dx of layer norm from (x, weight, dy); dx has x's dtype.
struct LayerNormInputGrad {
    eps: f32,
}

fn layer_norm_input_grad<T: CudaDType + DeviceRepr + WithDType>(
    eps: f32,
    x: &CudaStorage,
    xl: &Layout,
    w: &CudaStorage,
    wl: &Layout,
    dy: &CudaStorage,
    dyl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let (rows, r, c) = rows_cols(xl)?;
    let (xv, wv, dyv) = (
        view::<T>(x, xl)?,
        view::<f32>(w, wl)?,
        view::<f32>(dy, dyl)?,
    );
    // SAFETY: the kernel writes every element.
    let mut dx = unsafe { dev.alloc::<T>(xl.shape().elem_count())? };
    let func = kernel(dev, "layer_norm_bwd_input", T::DTYPE)?;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv)
        .arg(&wv)
        .arg(&dyv)
        .arg(&mut dx)
        .arg(&r)
        .arg(&c)
        .arg(&eps);
    // SAFETY: rows × cols elements in x, dy and dx, cols in w.
    unsafe { args.launch(rows_config(rows)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(dx, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp3 for LayerNormInputGrad {
    fn name(&self) -> &'static str {
        "dialect-layer-norm-input-grad"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
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
        w: &CudaStorage,
        wl: &Layout,
        dy: &CudaStorage,
        dyl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        by_dtype!(
            x.dtype(),
            self.name(),
            layer_norm_input_grad(self.eps, x, xl, w, wl, dy, dyl)
        )
    }
}

/// x̂ = (x − mean) / sqrt(var + eps) in f32, for the weight and bias gradients.
struct LayerNormNormalise {
    eps: f32,
}

fn layer_norm_normalise<T: CudaDType + DeviceRepr + WithDType>(
    eps: f32,
    x: &CudaStorage,
    xl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let (rows, r, c) = rows_cols(xl)?;
    let xv = view::<T>(x, xl)?;
    // SAFETY: the kernel writes every element.
    let mut xhat = unsafe { dev.alloc::<f32>(xl.shape().elem_count())? };
    let func = kernel(dev, "layer_norm_normalise", T::DTYPE)?;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv).arg(&mut xhat).arg(&r).arg(&c).arg(&eps);
    // SAFETY: rows × cols elements in x and xhat.
    unsafe { args.launch(rows_config(rows)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(xhat, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp1 for LayerNormNormalise {
    fn name(&self) -> &'static str {
        "dialect-layer-norm-normalise"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(&self, x: &CudaStorage, xl: &Layout) -> Result<(CudaStorage, Shape)> {
        by_dtype!(
            x.dtype(),
            self.name(),
            layer_norm_normalise(self.eps, x, xl)
        )
    }
}
