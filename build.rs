//! With the `cuda` feature, compile Dialect's fused CUDA kernels to PTX with nvcc, the
//! same compiler candle's own kernels need: the model's ops
//! (`src/kernels/cuda/kernels.cu`) and the optimiser's (`src/train/optim/adamw.cu`).
//! The default (CPU) build needs nothing.

use std::path::PathBuf;
use std::process::Command;

/// Each CUDA source and the PTX file (in `OUT_DIR`) that the crate includes.
const SOURCES: [(&str, &str); 2] = [
    ("src/kernels/cuda/kernels.cu", "kernels.ptx"),
    ("src/train/optim/adamw.cu", "adamw.ptx"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // PTX for the oldest architecture CUDA 13 supports runs on every newer GPU (the
    // driver compiles it once at load); CUDA_COMPUTE_CAP pins one, as for candle.
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "75".into());
    // Older GPUs cannot run that PTX: the CUDA probe refuses them (src/cuda_probe.rs).
    println!("cargo:rustc-env=DIALECT_CUDA_COMPUTE_CAP={cap}");
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    for (source, ptx) in SOURCES {
        println!("cargo:rerun-if-changed={source}");
        let status = Command::new(&nvcc)
            .args([
                "--ptx",
                "-O3",
                &format!("-arch=compute_{cap}"),
                source,
                "-o",
            ])
            .arg(out_dir.join(ptx))
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run {nvcc} (the CUDA compiler, needed by --features cuda): {e}")
            });
        assert!(status.success(), "{nvcc} failed to compile {source}");
    }
}
