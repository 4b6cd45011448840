//! Compute device selection: CUDA → Metal → CPU, overridable.

use crate::error::{EngineError, Result};
use candle_core::Device;
use std::str::FromStr;

/// Which device to train or predict on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The fastest available: CUDA, then Metal, then CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
    Metal,
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
}

/// One device and whether it can be used here (for device pickers).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub choice: DeviceChoice,
    pub available: bool,
    /// Why not, when unavailable.
    pub note: Option<String>,
}

/// CPU, CUDA and Metal, each with whether this build on this machine can open it.
pub fn available_devices() -> Vec<DeviceInfo> {
    [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Metal]
        .into_iter()
        .map(|choice| match choice.open() {
            Ok(_) => DeviceInfo {
                choice,
                available: true,
                note: None,
            },
            Err(e) => DeviceInfo {
                choice,
                available: false,
                note: Some(match e {
                    EngineError::Device(why) => why,
                    other => other.to_string(),
                }),
            },
        })
        .collect()
}

/// A short human name for a device ("cpu", "cuda:0", "metal").
pub fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda:0".into(),
        Device::Metal(_) => "metal".into(),
    }
}

fn open_cuda() -> Result<Device> {
    if !candle_core::utils::cuda_is_available() {
        return Err(EngineError::Device(
            "CUDA requested but this build has no CUDA support: rebuild with `--features cuda`"
                .into(),
        ));
    }
    Device::new_cuda(0).map_err(|e| EngineError::Device(format!("cannot open CUDA device 0: {e}")))
}

fn open_metal() -> Result<Device> {
    if !candle_core::utils::metal_is_available() {
        return Err(EngineError::Device(
            "Metal requested but this build has no Metal support: rebuild with `--features metal` on macOS"
                .into(),
        ));
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
}
