//! Inverted dropout whose mask is a hash of a seed and each element's index (the
//! CPU kernel's hash): the backward pass applies the same op to the gradient.

use super::{cpu_unsupported, elementwise_config, kernel, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{DeviceRepr, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType,
};
use half::bf16;

/// Inverted dropout with probability `p`, its mask a hash of `seed` and each element's
/// index: the backward pass applies the same op (same mask) to the gradient.
pub fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    x.contiguous()?.apply_op1(Dropout {
        seed,
        threshold: (p * 4_294_967_296.0).min(4_294_967_295.0) as u32,
        scale: (1.0 / (1.0 - p)) as f32,
    })
}

#[derive(Clone, Copy)]
struct Dropout {
    seed: u64,
    threshold: u32,
    scale: f32,
}

fn dropout_fwd<T: CudaDType + DeviceRepr + WithDType>(
    op: &Dropout,
    x: &CudaStorage,
    xl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let n = xl.shape().elem_count();
    let xv = view::<T>(x, xl)?;
    // SAFETY: the kernel writes every element.
    let mut y = unsafe { dev.alloc::<T>(n)? };
    let func = kernel(dev, "dropout", T::DTYPE)?;
    let n_arg = n as i64;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv)
        .arg(&mut y)
        .arg(&n_arg)
        .arg(&op.seed)
        .arg(&op.threshold)
        .arg(&op.scale);
    // SAFETY: n elements in x and y.
    unsafe { args.launch(elementwise_config(n)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(y, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp1 for Dropout {
    fn name(&self) -> &'static str {
        "dialect-dropout"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(&self, x: &CudaStorage, xl: &Layout) -> Result<(CudaStorage, Shape)> {
        by_dtype!(x.dtype(), self.name(), dropout_fwd(self, x, xl))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad.to_dtype(arg.dtype())?.contiguous()?;
        Ok(Some(grad.apply_op1_no_bwd(self)?))
    }
}
