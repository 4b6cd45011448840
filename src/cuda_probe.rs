//! Whether an NVIDIA GPU can be used here, asked before candle touches CUDA. A `cuda`
//! build loads the driver and the CUDA libraries at run time (cudarc's dynamic loading),
//! and cudarc panics where one is missing; this probe loads each itself and turns what
//! is missing into a reason for the user.

use libloading::Library;
use std::ffi::{c_int, c_uint};

/// The NVIDIA driver's library.
#[cfg(feature = "cuda")]
const DRIVER: &str = "libcuda.so.1";
/// The CUDA 13 libraries candle opens a GPU with: cuBLAS (which needs cuBLASLt) for
/// matrix products, cuRAND for random weights and dropout masks.
#[cfg(feature = "cuda")]
const LIBRARIES: [&str; 3] = ["libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10"];
/// CUDA 13.0 as `cuDriverGetVersion` reports it: NVIDIA driver 580 or newer.
const MIN_DRIVER_CUDA: c_int = 13_000;

const INSTALL_DRIVER: &str = "install the NVIDIA driver, 580 or newer";
const INSTALL_LIBRARIES: &str = "install the CUDA 13 toolkit, or the pip wheels nvidia-cublas \
     and nvidia-curand (CUDA 13), and add their lib folder to LD_LIBRARY_PATH";

/// [`probe`] of the driver and the libraries this build opens a GPU with, once per
/// process.
#[cfg(feature = "cuda")]
pub fn ready() -> Result<(), String> {
    static READY: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    // The kernels are PTX for CUDA_COMPUTE_CAP (build.rs), which the driver compiles for
    // that GPU generation and every newer one.
    let built_for = capability(env!("DIALECT_CUDA_COMPUTE_CAP")).unwrap_or((8, 0));
    READY
        .get_or_init(|| probe(DRIVER, &LIBRARIES, built_for))
        .clone()
}

/// A compute capability written as CUDA_COMPUTE_CAP writes it ("80", "90a", "120").
fn capability(cap: &str) -> Option<(c_int, c_int)> {
    let digits: String = cap.chars().take_while(char::is_ascii_digit).collect();
    let n: c_int = digits.parse().ok()?;
    (n >= 10).then_some((n / 10, n % 10))
}

/// Ok when `driver` loads, runs CUDA 13 and drives a GPU of compute capability
/// `min_capability` or newer, and every one of `libraries` loads; else everything that
/// is missing, with what to install.
pub fn probe(
    driver: &str,
    libraries: &[&str],
    min_capability: (c_int, c_int),
) -> Result<(), String> {
    let (mut missing, mut problems) = (Vec::new(), Vec::new());
    for name in libraries {
        match load(name) {
            Ok(_) => {}
            Err(Unloaded::NotFound) => missing.push(*name),
            Err(failed) => problems.push(failed.describe(name)),
        }
    }
    if !missing.is_empty() {
        problems.insert(0, format!("CUDA libraries missing: {}", missing.join(", ")));
    }
    let libraries =
        (!problems.is_empty()).then(|| format!("{}; {INSTALL_LIBRARIES}", problems.join("; ")));
    match (check_driver(driver, min_capability).err(), libraries) {
        (None, None) => Ok(()),
        (Some(why), None) | (None, Some(why)) => Err(why),
        (Some(driver), Some(libraries)) => Err(format!("{driver}; {libraries}")),
    }
}

/// Why a library did not load.
enum Unloaded {
    NotFound,
    /// It is there but did not load: dlerror's text.
    Failed(String),
}

impl Unloaded {
    fn describe(&self, name: &str) -> String {
        match self {
            Self::NotFound => format!("{name} not found"),
            Self::Failed(why) => format!("{name} could not be loaded ({why})"),
        }
    }
}

fn load(name: &str) -> Result<Library, Unloaded> {
    // SAFETY: loading runs the library's initialisers; these are NVIDIA's libraries,
    // which cudarc would load in the same way.
    unsafe { Library::new(name) }.map_err(|e| {
        // libloading's message is "dlopen failed"; dlerror's text is its source.
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        if why.contains("No such file") {
            Unloaded::NotFound
        } else {
            Unloaded::Failed(why)
        }
    })
}

type CuInit = unsafe extern "C" fn(flags: c_uint) -> c_int;
type CuOut = unsafe extern "C" fn(out: *mut c_int) -> c_int;
type CuDeviceGet = unsafe extern "C" fn(device: *mut c_int, ordinal: c_int) -> c_int;
type CuDeviceGetAttribute =
    unsafe extern "C" fn(value: *mut c_int, attribute: c_int, device: c_int) -> c_int;

const CUDA_SUCCESS: c_int = 0;
const CUDA_ERROR_NO_DEVICE: c_int = 100;
const COMPUTE_CAPABILITY_MAJOR: c_int = 75;
const COMPUTE_CAPABILITY_MINOR: c_int = 76;

/// The driver: loaded, new enough, started, and device 0 recent enough.
fn check_driver(name: &str, min_capability: (c_int, c_int)) -> Result<(), String> {
    let driver = load(name)
        .map_err(|e| format!("no NVIDIA driver: {}; {INSTALL_DRIVER}", e.describe(name)))?;
    let symbol = |symbol: &str| {
        format!("the NVIDIA driver's {name} has no {symbol}: reinstall the driver (580 or newer)")
    };
    // SAFETY: the signatures are the CUDA driver API's (cuda.h), unchanged since CUDA 2;
    // each out-pointer is a live local.
    unsafe {
        let get_version = driver
            .get::<CuOut>(b"cuDriverGetVersion\0")
            .map_err(|_| symbol("cuDriverGetVersion"))?;
        let mut version = 0;
        if get_version(&mut version) != CUDA_SUCCESS {
            return Err("the NVIDIA driver did not tell its version: check `nvidia-smi`".into());
        }
        if version < MIN_DRIVER_CUDA {
            return Err(format!(
                "NVIDIA driver too old: it runs CUDA {}.{}, this build needs CUDA 13.0 \
                 (driver 580 or newer)",
                version / 1000,
                version % 1000 / 10
            ));
        }
        let init = driver
            .get::<CuInit>(b"cuInit\0")
            .map_err(|_| symbol("cuInit"))?;
        match init(0) {
            CUDA_SUCCESS => {}
            CUDA_ERROR_NO_DEVICE => return Err("no NVIDIA GPU found (the driver sees none)".into()),
            code => {
                return Err(format!(
                    "the NVIDIA driver did not start (cuInit error {code}): check `nvidia-smi`"
                ))
            }
        }
        let count = driver
            .get::<CuOut>(b"cuDeviceGetCount\0")
            .map_err(|_| symbol("cuDeviceGetCount"))?;
        let mut devices = 0;
        if count(&mut devices) != CUDA_SUCCESS || devices < 1 {
            return Err("no NVIDIA GPU found (the driver sees none)".into());
        }
        let device_get = driver
            .get::<CuDeviceGet>(b"cuDeviceGet\0")
            .map_err(|_| symbol("cuDeviceGet"))?;
        let attribute = driver
            .get::<CuDeviceGetAttribute>(b"cuDeviceGetAttribute\0")
            .map_err(|_| symbol("cuDeviceGetAttribute"))?;
        let (mut device, mut major, mut minor) = (0, 0, 0);
        if device_get(&mut device, 0) != CUDA_SUCCESS
            || attribute(&mut major, COMPUTE_CAPABILITY_MAJOR, device) != CUDA_SUCCESS
            || attribute(&mut minor, COMPUTE_CAPABILITY_MINOR, device) != CUDA_SUCCESS
        {
            return Err("the NVIDIA driver could not describe GPU 0: check `nvidia-smi`".into());
        }
        if (major, minor) < min_capability {
            return Err(format!(
                "GPU 0 has compute capability {major}.{minor}; this build's kernels need \
                 {}.{} or newer",
                min_capability.0, min_capability.1
            ));
        }
    }
    // cuInit has run in this process: the driver stays loaded (cudarc opens it next).
    std::mem::forget(driver);
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    const ABSENT_DRIVER: &str = "libdialect-absent-driver.so.1";
    const ABSENT_LIBRARY: &str = "libdialect-absent-blas.so.13";
    /// A library every glibc Linux has, standing for one that is installed.
    const PRESENT_LIBRARY: &str = "libc.so.6";
    const AMPERE: (c_int, c_int) = (8, 0);

    #[test]
    fn a_missing_driver_is_named_with_what_to_install() {
        let why = probe(ABSENT_DRIVER, &[PRESENT_LIBRARY], AMPERE).unwrap_err();
        assert_eq!(
            why,
            format!("no NVIDIA driver: {ABSENT_DRIVER} not found; install the NVIDIA driver, 580 or newer")
        );
    }

    #[test]
    fn missing_libraries_are_listed_and_present_ones_are_not() {
        let why = probe(
            ABSENT_DRIVER,
            &[
                ABSENT_LIBRARY,
                PRESENT_LIBRARY,
                "libdialect-absent-rand.so.10",
            ],
            AMPERE,
        )
        .unwrap_err();
        let (driver, libraries) = why.split_once("; CUDA libraries missing: ").unwrap();
        assert!(driver.starts_with("no NVIDIA driver"), "{why}");
        assert!(
            libraries.starts_with(&format!(
                "{ABSENT_LIBRARY}, libdialect-absent-rand.so.10; install the CUDA 13 toolkit"
            )),
            "{why}"
        );
        assert!(
            libraries.contains("LD_LIBRARY_PATH") && !why.contains(PRESENT_LIBRARY),
            "{why}"
        );
    }

    #[test]
    fn compute_capabilities_read_as_cuda_compute_cap_writes_them() {
        assert_eq!(capability("80"), Some((8, 0)));
        assert_eq!(capability("86"), Some((8, 6)));
        assert_eq!(capability("90a"), Some((9, 0)));
        assert_eq!(capability("120"), Some((12, 0)));
        assert_eq!(capability("sm_80"), None);
        assert_eq!(capability("8"), None);
    }

    #[test]
    fn a_library_that_exists_but_fails_to_load_is_not_called_missing() {
        // /proc/self/status is there but is no shared library.
        let why = probe(
            ABSENT_DRIVER,
            &["/proc/self/status", ABSENT_LIBRARY],
            AMPERE,
        )
        .unwrap_err();
        assert!(
            why.contains(&format!(
                "; CUDA libraries missing: {ABSENT_LIBRARY}; /proc/self/status could not be loaded ("
            )),
            "{why}"
        );
    }
}
