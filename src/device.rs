//! Compute device selection: CUDA → Metal → CPU, overridable.

use crate::error::{EngineError, Result};
use candle_core::Device;
use std::str::FromStr;

/// Which device to train or predict on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The fastest available: CUDA, then Metal, then CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
    Metal,
}

impl DeviceChoice {
    /// Its name as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Metal => "metal",
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "metal" | "mps" => Ok(Self::Metal),
            other => Err(EngineError::Device(format!(
                "unknown device '{other}': use auto, cpu, cuda or metal"
            ))),
        }
    }
}

impl DeviceChoice {
    /// Open the device. An explicit CUDA/Metal request on a build or machine without it
    /// is an error that says so; `Auto` falls back to CPU.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => open_cuda(),
            Self::Metal => open_metal(),
            Self::Auto => Ok(open_cuda().or_else(|_| open_metal()).unwrap_or(Device::Cpu)),
        }
    }

    /// Why `Auto` will not train on the NVIDIA GPU this build supports: the missing
    /// driver, GPU or CUDA library, and what to install. `None` for other choices (an
    /// explicit `cuda` fails with the reason), where CUDA opens, and in builds without
    /// CUDA (nothing installed would change them).
    pub fn cuda_fallback_reason(self) -> Option<String> {
        if self != Self::Auto || !candle_core::utils::cuda_is_available() {
            return None;
        }
        open_cuda().err().map(unavailable_because)
    }
}

/// Why a device cannot be opened, as a device picker's note says it.
fn unavailable_because(e: EngineError) -> String {
    match e {
        EngineError::Device(why) => why,
        other => other.to_string(),
    }
}

/// One device and whether it can be used here (for device pickers).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub choice: DeviceChoice,
    pub available: bool,
    /// Why not, when unavailable.
    pub note: Option<String>,
    /// The hardware's name ("NVIDIA H100 80GB HBM3"), when the driver tells it.
    #[serde(default)]
    pub name: Option<String>,
    /// Total device memory in bytes (GPUs only).
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// Free device memory in bytes when listed (GPUs only).
    #[serde(default)]
    pub free_bytes: Option<u64>,
    /// Whether the device trains in bf16 mixed precision (see [`Precision`]).
    #[serde(default)]
    pub bf16: bool,
}

/// CPU, CUDA and Metal, each with whether this build on this machine can open it,
/// and its name and memory when it can.
pub fn available_devices() -> Vec<DeviceInfo> {
    [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Metal]
        .into_iter()
        .map(|choice| match choice.open() {
            Ok(device) => {
                let facts = hardware_facts(&device);
                DeviceInfo {
                    choice,
                    available: true,
                    note: None,
                    name: facts.name,
                    memory_bytes: facts.memory_bytes,
                    free_bytes: facts.free_bytes,
                    bf16: supports_bf16(&device),
                }
            }
            Err(e) => DeviceInfo {
                choice,
                available: false,
                note: Some(unavailable_because(e)),
                name: None,
                memory_bytes: None,
                free_bytes: None,
                bf16: false,
            },
        })
        .collect()
}

/// Name and memory of an opened device, as far as its driver reports them.
#[derive(Debug, Default)]
struct HardwareFacts {
    name: Option<String>,
    memory_bytes: Option<u64>,
    free_bytes: Option<u64>,
}

fn hardware_facts(device: &Device) -> HardwareFacts {
    match device {
        Device::Cpu => cpu_facts(),
        Device::Cuda(_) => cuda_facts(device),
        Device::Metal(_) => HardwareFacts {
            name: Some("Apple GPU (Metal)".into()),
            ..HardwareFacts::default()
        },
    }
}

#[cfg(feature = "cuda")]
fn cuda_facts(device: &Device) -> HardwareFacts {
    let Device::Cuda(cuda) = device else {
        return HardwareFacts::default();
    };
    let stream = cuda.cuda_stream();
    let context = stream.context();
    let (free, total) = context.mem_get_info().ok().unzip();
    HardwareFacts {
        name: context.name().ok(),
        memory_bytes: total.map(|t| t as u64),
        free_bytes: free.map(|f| f as u64),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda_facts(_device: &Device) -> HardwareFacts {
    HardwareFacts::default()
}

/// The CPU's model name from /proc/cpuinfo (Linux), its logical core count and the
/// vector instructions the kernels use on it.
fn cpu_facts() -> HardwareFacts {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let simd = crate::kernels::SimdPath::detect().name();
    HardwareFacts {
        name: Some(match model {
            Some(m) => format!("{m} ({cores} threads, {simd})"),
            None => format!("{cores} threads, {simd}"),
        }),
        ..HardwareFacts::default()
    }
}

/// Whether bf16 mixed precision is offered on `device`: CUDA GPUs of compute
/// capability 8.0 (Ampere) or newer, whose tensor cores run bf16 natively.
pub fn supports_bf16(device: &Device) -> bool {
    cuda_compute_capability(device).is_some_and(|(major, _)| major >= 8)
}

#[cfg(feature = "cuda")]
fn cuda_compute_capability(device: &Device) -> Option<(i32, i32)> {
    let Device::Cuda(cuda) = device else {
        return None;
    };
    cuda.cuda_stream().context().compute_capability().ok()
}

#[cfg(not(feature = "cuda"))]
fn cuda_compute_capability(_device: &Device) -> Option<(i32, i32)> {
    None
}

/// On CUDA, let f32 matrix products use TF32 tensor cores and bf16 ones reduce in
/// reduced precision, as torch allows by default for bf16 (candle allows neither by
/// default). A process-wide setting; nothing elsewhere.
pub fn enable_tensor_cores(device: &Device) {
    if device.is_cuda() {
        candle_core::cuda::set_gemm_reduced_precision_f32(true);
        candle_core::cuda::set_gemm_reduced_precision_bf16(true);
    }
}

/// A short human name for a device ("cpu", "cuda:0", "metal").
pub fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda:0".into(),
        Device::Metal(_) => "metal".into(),
    }
}

/// GPU 0, once the probe has found the driver, a GPU and the CUDA libraries (cudarc,
/// which loads them at run time, panics where one is missing).
#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Device> {
    crate::cuda_probe::ready().map_err(EngineError::Device)?;
    Device::new_cuda(0).map_err(|e| EngineError::Device(format!("cannot open CUDA device 0: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda() -> Result<Device> {
    Err(EngineError::Device(
        "this build has no CUDA support: use Dialect's Linux release, or build from source \
         with `--features cuda`"
            .into(),
    ))
}

fn open_metal() -> Result<Device> {
    if !candle_core::utils::metal_is_available() {
        let why = if cfg!(target_os = "macos") {
            "this build has no Metal support: use Dialect's macOS release, or build from \
             source with `--features metal`"
        } else {
            "Metal is Apple's GPU interface: only on macOS"
        };
        return Err(EngineError::Device(why.into()));
    }
    Device::new_metal(0).map_err(|e| EngineError::Device(format!("cannot open Metal device: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rejects_unknown() {
        assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        let err = "tpu".parse::<DeviceChoice>().unwrap_err().to_string();
        assert!(err.contains("tpu") && err.contains("cpu"), "{err}");
    }

    #[test]
    fn cpu_is_always_listed_as_available() {
        let devices = available_devices();
        assert_eq!(devices.len(), 3);
        assert!(devices[0].available && devices[0].choice == DeviceChoice::Cpu);
        for d in &devices[1..] {
            assert_eq!(d.available, d.note.is_none());
        }
    }

    #[test]
    fn auto_always_opens_something() {
        assert!(DeviceChoice::Auto.open().is_ok());
        assert!(DeviceChoice::Cpu.open().unwrap().is_cpu());
    }

    fn cuda_note() -> Option<String> {
        let devices = available_devices();
        devices
            .into_iter()
            .find(|d| d.choice == DeviceChoice::Cuda)?
            .note
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn metal_is_said_to_be_macos_only_elsewhere() {
        let metal = available_devices()
            .into_iter()
            .find(|d| d.choice == DeviceChoice::Metal)
            .unwrap();
        assert!(!metal.available);
        assert_eq!(
            metal.note.as_deref(),
            Some("Metal is Apple's GPU interface: only on macOS")
        );
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_build_without_cuda_says_so_and_explains_no_fallback() {
        let note = cuda_note().unwrap();
        assert!(
            note.starts_with("this build has no CUDA support: use Dialect's Linux release"),
            "{note}"
        );
        assert_eq!(DeviceChoice::Auto.cuda_fallback_reason(), None);
    }

    #[cfg(feature = "cuda")]
    #[test]
    fn auto_uses_the_gpu_or_says_why_not() {
        match crate::cuda_probe::ready() {
            Err(why) => {
                assert_eq!(cuda_note().as_deref(), Some(why.as_str()));
                assert_eq!(
                    DeviceChoice::Auto.cuda_fallback_reason().as_deref(),
                    Some(why.as_str())
                );
                assert!(DeviceChoice::Auto.open().unwrap().is_cpu());
                let err = DeviceChoice::Cuda.open().unwrap_err().to_string();
                assert!(err.contains(&why), "{err}");
            }
            Ok(()) => {
                assert_eq!(cuda_note(), None);
                assert_eq!(DeviceChoice::Auto.cuda_fallback_reason(), None);
                assert!(DeviceChoice::Auto.open().unwrap().is_cuda());
            }
        }
        assert_eq!(DeviceChoice::Cpu.cuda_fallback_reason(), None);
    }
}
