//! Exact (erf) GELU and its backward, one element-wise kernel each.

use super::{cpu_unsupported, elementwise_config, kernel, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{DeviceRepr, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor,
    WithDType,
};
use half::bf16;

/// GELU (erf form) with its backward pass, each one kernel.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(Gelu)
}

struct Gelu;

fn gelu_fwd<T: CudaDType + DeviceRepr + WithDType>(
    x: &CudaStorage,
    xl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let n = xl.shape().elem_count();
    let xv = view::<T>(x, xl)?;
    // SAFETY: the kernel writes every element.
    let mut y = unsafe { dev.alloc::<T>(n)? };
    let func = kernel(dev, "gelu_fwd", T::DTYPE)?;
    let n_arg = n as i64;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv).arg(&mut y).arg(&n_arg);
    // SAFETY: n elements in x and y.
    unsafe { args.launch(elementwise_config(n)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(y, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "dialect-gelu"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(&self, x: &CudaStorage, xl: &Layout) -> Result<(CudaStorage, Shape)> {
        by_dtype!(x.dtype(), self.name(), gelu_fwd(x, xl))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let dy = dy.to_dtype(x.dtype())?.contiguous()?;
        Ok(Some(x.apply_op2_no_bwd(&dy, &GeluGrad)?))
    }
}

/// dx of GELU from (x, dy).
struct GeluGrad;

fn gelu_grad<T: CudaDType + DeviceRepr + WithDType>(
    x: &CudaStorage,
    xl: &Layout,
    dy: &CudaStorage,
    dyl: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let dev = x.device();
    let n = xl.shape().elem_count();
    let (xv, dyv) = (view::<T>(x, xl)?, view::<T>(dy, dyl)?);
    // SAFETY: the kernel writes every element.
    let mut dx = unsafe { dev.alloc::<T>(n)? };
    let func = kernel(dev, "gelu_bwd", T::DTYPE)?;
    let n_arg = n as i64;
    let stream = dev.cuda_stream();
    let mut args = stream.launch_builder(&func);
    args.arg(&xv).arg(&dyv).arg(&mut dx).arg(&n_arg);
    // SAFETY: n elements in x, dy and dx.
    unsafe { args.launch(elementwise_config(n)) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(dx, dev.clone()),
        xl.shape().clone(),
    ))
}

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "dialect-gelu-grad"
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
        dy: &CudaStorage,
        dyl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        by_dtype!(x.dtype(), self.name(), gelu_grad(x, xl, dy, dyl))
    }
}
