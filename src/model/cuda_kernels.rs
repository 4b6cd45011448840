//! candle custom ops over the fused CUDA kernels of `kernels.cu`: layer norm, masked
//! attention softmax, dropout and GELU (each with its backward pass), and AdamW over
//! all parameters in one launch. CUDA only: other devices compose candle ops.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, CudaView, DeviceRepr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaDevice, CudaStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout,
    Result, Shape, Tensor, WithDType,
};
use half::bf16;

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
    Ok(dev
        .get_or_load_custom_func(&format!("{base}_{suffix}"), MODULE, PTX)?
        .into_cuda_function())
}

/// The contiguous elements a layout covers, as a device view.
fn view<'a, T: CudaDType + DeviceRepr>(s: &'a CudaStorage, l: &Layout) -> Result<CudaView<'a, T>> {
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

/// `f(dtype-typed call)` for f32 and bf16 storages.
macro_rules! by_dtype {
    ($dtype:expr, $name:expr, $call:ident ( $($arg:expr),* )) => {
        match $dtype {
            DType::F32 => $call::<f32>($($arg),*),
            DType::BF16 => $call::<bf16>($($arg),*),
            other => bail!("{}: f32 or bf16 expected, got {other:?}", $name),
        }
    };
}

fn cpu_unsupported<T>(op: &str) -> Result<T> {
    bail!("{op} is a CUDA kernel; other devices use the composed candle ops")
}

// ---------------------------------------------------------------- layer norm

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

// ---------------------------------------------------------------- attention softmax

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

// ---------------------------------------------------------------- dropout

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

// ---------------------------------------------------------------- GELU

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

// ---------------------------------------------------------------- optimiser

/// Elements per block of the one-launch optimiser kernels (`CHUNK` in kernels.cu).
const CHUNK: usize = 4096;

/// AdamW over all f32 parameters of a model in one launch (and their gradients' sum
/// of squares in another), with f32 moments on the device.
pub struct MultiAdamW {
    device: CudaDevice,
    params: Vec<Tensor>,
    weight_decays: Vec<f32>,
    moments: Vec<(CudaSlice<f32>, CudaSlice<f32>)>,
    /// (slot, first element) of each block.
    chunks: CudaSlice<u32>,
    blocks: u32,
    /// The gradients of the step in progress (contiguous) and their slot table, from
    /// [`MultiAdamW::grad_norm`] for [`MultiAdamW::step`].
    prepared: Option<(Vec<Option<Tensor>>, CudaSlice<u64>)>,
}

/// `acc += Σ g²` over every gradient of the slot table.
struct SumOfSquares<'a> {
    table: &'a CudaSlice<u64>,
    optimiser: &'a MultiAdamW,
}

impl candle_core::InplaceOp1 for SumOfSquares<'_> {
    fn name(&self) -> &'static str {
        "dialect-sum-of-squares"
    }

    fn cpu_fwd(&self, _: &mut CpuStorage, _: &Layout) -> Result<()> {
        cpu_unsupported(self.name())
    }

    fn cuda_fwd(&self, acc: &mut CudaStorage, _: &Layout) -> Result<()> {
        let o = self.optimiser;
        let out = acc.as_cuda_slice_mut::<f32>()?;
        let func = kernel(&o.device, "multi_sum_of_squares", DType::F32)?;
        let stream = o.device.cuda_stream();
        let mut args = stream.launch_builder(&func);
        args.arg(self.table).arg(&o.chunks).arg(out);
        // SAFETY: the tables describe live device buffers of the sizes given.
        unsafe { args.launch(o.config()) }.w()?;
        Ok(())
    }
}

/// The hyperparameters of one AdamW update (see `train::optim`).
pub struct AdamWStep {
    pub lr: f32,
    pub max_norm: f32,
    pub b1: f32,
    pub b2: f32,
    pub step_size: f32,
    pub bc2_sqrt: f32,
    pub eps: f32,
}

/// A device pointer to a contiguous f32 tensor's first element.
fn device_ptr(t: &Tensor, stream: &CudaStream) -> Result<u64> {
    use candle_core::cuda_backend::cudarc::driver::DevicePtr;
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cuda(cuda) = &*storage else {
        bail!("fused AdamW: a CUDA tensor expected")
    };
    if !layout.is_contiguous() {
        bail!("fused AdamW: a contiguous tensor expected");
    }
    let slice = cuda.as_cuda_slice::<f32>()?;
    let (ptr, _sync) = slice.device_ptr(stream);
    Ok(ptr + (layout.start_offset() * std::mem::size_of::<f32>()) as u64)
}

impl MultiAdamW {
    /// State for `params` (f32, contiguous, on one CUDA device), each with its weight
    /// decay.
    pub fn new(device: &CudaDevice, params: Vec<Tensor>, weight_decays: Vec<f32>) -> Result<Self> {
        let mut chunks = Vec::new();
        let mut moments = Vec::with_capacity(params.len());
        for (slot, p) in params.iter().enumerate() {
            let n = p.elem_count();
            for start in (0..n).step_by(CHUNK) {
                chunks.extend([slot as u32, start as u32]);
            }
            moments.push((device.alloc_zeros::<f32>(n)?, device.alloc_zeros::<f32>(n)?));
        }
        let blocks = (chunks.len() / 2) as u32;
        Ok(Self {
            device: device.clone(),
            chunks: device.cuda_stream().clone_htod(&chunks).w()?,
            blocks,
            params,
            weight_decays,
            moments,
            prepared: None,
        })
    }

    /// Contiguous gradients (`None` where a parameter got none, which skips it) and
    /// the slot table pointing at them, the parameters and their moments.
    fn prepare(&self, grads: &[Option<&Tensor>]) -> Result<(Vec<Option<Tensor>>, CudaSlice<u64>)> {
        use candle_core::cuda_backend::cudarc::driver::DevicePtr;
        let stream = self.device.cuda_stream();
        let grads: Vec<Option<Tensor>> = grads
            .iter()
            .map(|g| g.map(Tensor::contiguous).transpose())
            .collect::<Result<_>>()?;
        let mut table = Vec::with_capacity(6 * self.params.len());
        for (((p, g), (m, v)), wd) in self
            .params
            .iter()
            .zip(&grads)
            .zip(&self.moments)
            .zip(&self.weight_decays)
        {
            let (gptr, n) = match g {
                Some(g) => (device_ptr(g, &stream)?, p.elem_count() as u64),
                None => (0, 0),
            };
            table.extend([
                device_ptr(p, &stream)?,
                gptr,
                m.device_ptr(&stream).0,
                v.device_ptr(&stream).0,
                n,
                u64::from(wd.to_bits()),
            ]);
        }
        Ok((grads, stream.clone_htod(&table).w()?))
    }

    fn config(&self) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (self.blocks.max(1), 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// The global L2 norm of `grads` (one per parameter), on the device. Keeps the
    /// gradients' table for the [`MultiAdamW::step`] that follows.
    pub fn grad_norm(&mut self, grads: &[Option<&Tensor>]) -> Result<Tensor> {
        let (grads, table) = self.prepare(grads)?;
        let acc = Tensor::zeros(
            (),
            DType::F32,
            &candle_core::Device::Cuda(self.device.clone()),
        )?;
        acc.inplace_op1(&SumOfSquares {
            table: &table,
            optimiser: self,
        })?;
        self.prepared = Some((grads, table));
        acc.sqrt()
    }

    /// Update every parameter in place from `grads` (the ones given to
    /// [`MultiAdamW::grad_norm`] just before, whose norm is `norm`: a one-element
    /// device tensor; a non-finite norm skips the step).
    pub fn step(
        &mut self,
        grads: &[Option<&Tensor>],
        norm: &Tensor,
        step: &AdamWStep,
    ) -> Result<()> {
        let (_grads, table) = match self.prepared.take() {
            Some(prepared) => prepared,
            None => self.prepare(grads)?,
        };
        let (storage, layout) = norm.storage_and_layout();
        let candle_core::Storage::Cuda(cuda) = &*storage else {
            bail!("fused AdamW: the norm must be on the GPU")
        };
        let normv = view::<f32>(cuda, layout)?;
        let func = kernel(&self.device, "multi_adamw", DType::F32)?;
        let stream = self.device.cuda_stream();
        let mut args = stream.launch_builder(&func);
        args.arg(&table)
            .arg(&self.chunks)
            .arg(&normv)
            .arg(&step.lr)
            .arg(&step.max_norm)
            .arg(&step.b1)
            .arg(&step.b2)
            .arg(&step.step_size)
            .arg(&step.bc2_sqrt)
            .arg(&step.eps);
        // SAFETY: the table describes live device buffers of the sizes given; the
        // gradients outlive the launch (freed later on the same stream).
        unsafe { args.launch(self.config()) }.w()?;
        Ok(())
    }
}
