//! With the `cuda` feature, compile Dialect's fused training kernels
//! (`src/model/kernels.cu`) to PTX with nvcc, the same compiler candle's own kernels
//! need. The default (CPU) build needs nothing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let source = "src/model/kernels.cu";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("kernels.ptx");
    // PTX for the oldest architecture CUDA 13 supports runs on every newer GPU (the
    // driver compiles it once at load); CUDA_COMPUTE_CAP pins one, as for candle.
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "75".into());
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let status = Command::new(&nvcc)
        .args([
            "--ptx",
            "-O3",
            &format!("-arch=compute_{cap}"),
            source,
            "-o",
        ])
        .arg(&out)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run {nvcc} (the CUDA compiler, needed by --features cuda): {e}")
        });
    assert!(status.success(), "{nvcc} failed to compile {source}");
}
