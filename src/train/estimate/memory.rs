//! The memory figures an estimate reads: what this process holds on a device now, and
//! what the device has free. Where the platform or driver does not say, `None`: the
//! estimate then reports "unknown" rather than a guess.

use candle_core::Device;

/// Bytes in use on `device`: this process's resident memory on the CPU (Linux), the
/// GPU's used memory on CUDA.
pub(super) fn in_use(device: &Device) -> Option<u64> {
    match device {
        Device::Cpu => proc_field("/proc/self/status", "VmRSS:"),
        Device::Cuda(_) => cuda_memory(device).map(|(free, total)| total.saturating_sub(free)),
        Device::Metal(_) => None,
    }
}

/// Bytes a run on `device` can still take: the kernel's estimate of memory available
/// without swapping on the CPU (Linux), the GPU's free memory on CUDA.
pub(super) fn available(device: &Device) -> Option<u64> {
    match device {
        Device::Cpu => proc_field("/proc/meminfo", "MemAvailable:"),
        Device::Cuda(_) => cuda_memory(device).map(|(free, _)| free),
        Device::Metal(_) => None,
    }
}

/// A `kB` field of a /proc file, in bytes.
fn proc_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// (free, total) bytes of a CUDA device, as its driver reports them.
#[cfg(feature = "cuda")]
fn cuda_memory(device: &Device) -> Option<(u64, u64)> {
    let Device::Cuda(cuda) = device else {
        return None;
    };
    let (free, total) = cuda.cuda_stream().context().mem_get_info().ok()?;
    Some((free as u64, total as u64))
}

#[cfg(not(feature = "cuda"))]
fn cuda_memory(_device: &Device) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            let held = in_use(&Device::Cpu).expect("VmRSS");
            let free = available(&Device::Cpu).expect("MemAvailable");
            assert!(held > 1 << 20 && free > 1 << 20, "{held} {free}");
        }
    }
}
