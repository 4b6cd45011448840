//! candle custom ops over Dialect's fused CUDA kernels (`kernels.cu`, compiled to PTX
//! by build.rs): layer norm, masked attention softmax, dropout and GELU, each with its
//! backward pass; and the launch helpers the optimiser's kernel shares
//! (`train::optim::cuda`). CUDA only: other devices compose candle ops.

use candle_core::cuda_backend::cudarc::driver::{CudaFunction, CudaView, DeviceRepr, LaunchConfig};
use candle_core::cuda_backend::CudaDType;
use candle_core::{bail, CudaDevice, CudaStorage, DType, Layout, Result};

/// `f(dtype-typed call)` for f32 and bf16 storages (used by the op modules below).
macro_rules! by_dtype {
    ($dtype:expr, $name:expr, $call:ident ( $($arg:expr),* )) => {
        match $dtype {
            DType::F32 => $call::<f32>($($arg),*),
            DType::BF16 => $call::<bf16>($($arg),*),
            other => bail!("{}: f32 or bf16 expected, got {other:?}", $name),
        }
    };
}

mod dropout;
mod gelu;
mod norm;
mod softmax;

pub(super) use dropout::dropout;
pub(super) use gelu::gelu;
pub(super) use norm::layer_norm;
pub(super) use softmax::masked_softmax;

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/kernels.ptx"));
const MODULE: &str = "dialect_kernels";
/// Rows handled per block by the one-warp-per-row kernels.
const ROWS_PER_BLOCK: u32 = 4;

fn rows_config(rows: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: ((rows as u32).div_ceil(ROWS_PER_BLOCK), 1, 1),
        block_dim: (32 * ROWS_PER_BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

fn elementwise_config(n: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: ((n as u32).div_ceil(256).clamp(1, 8192), 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The kernel `base_<dtype>` of Dialect's module (loaded once per device).
fn kernel(dev: &CudaDevice, base: &str, dtype: DType) -> Result<CudaFunction> {
    let suffix = match dtype {
        DType::F32 => "f32",
        DType::BF16 => "bf16",
        other => bail!("{base}: f32 or bf16 expected, got {other:?}"),
    };
    function(dev, MODULE, PTX, &format!("{base}_{suffix}"))
}

/// The kernel `name` of the PTX module `module` (`ptx`), loaded once per device.
pub(crate) fn function(
    dev: &CudaDevice,
    module: &str,
    ptx: &str,
    name: &str,
) -> Result<CudaFunction> {
    Ok(dev
        .get_or_load_custom_func(name, module, ptx)?
        .into_cuda_function())
}

/// The contiguous elements a layout covers, as a device view.
pub(crate) fn view<'a, T: CudaDType + DeviceRepr>(
    s: &'a CudaStorage,
    l: &Layout,
) -> Result<CudaView<'a, T>> {
    let Some((start, end)) = l.contiguous_offsets() else {
        bail!("fused kernel: contiguous input expected")
    };
    Ok(s.as_cuda_slice::<T>()?.slice(start..end))
}

/// `(rows, cols)` of a tensor reduced over its last dimension, as kernel arguments.
fn rows_cols(l: &Layout) -> Result<(usize, i32, i32)> {
    let cols = *l.dims().last().unwrap_or(&1);
    if cols == 0 {
        bail!("fused kernel: empty last dimension");
    }
    let rows = l.shape().elem_count() / cols;
    Ok((rows, rows as i32, cols as i32))
}

/// The error of a CUDA kernel's op run on another device.
pub(crate) fn cpu_unsupported<T>(op: &str) -> Result<T> {
    bail!("{op} is a CUDA kernel; other devices use the composed candle ops")
}
