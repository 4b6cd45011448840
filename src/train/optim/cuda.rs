//! AdamW over all f32 parameters of a model on a CUDA GPU: one launch for the
//! gradients' global norm, one for the update of every parameter (`adamw.cu`,
//! compiled to PTX by build.rs), with f32 moments on the device.

use crate::kernels::cuda::{cpu_unsupported, function, view};
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::WrapErr;
use candle_core::{bail, CpuStorage, CudaDevice, CudaStorage, DType, Layout, Result, Tensor};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/adamw.ptx"));
const MODULE: &str = "dialect_adamw";

/// Elements per block of the one-launch optimiser kernels (`CHUNK` in adamw.cu).
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
        let func = function(&o.device, MODULE, PTX, "multi_sum_of_squares_f32")?;
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
        let func = function(&self.device, MODULE, PTX, "multi_adamw_f32")?;
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
