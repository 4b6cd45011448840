#!/usr/bin/env bash
# Build a candle (0.11.1, feature `cuda`) binary on a CPU-only x86-64 Linux box with no
# system CUDA, for H100/H200 (sm_90) machines with driver 580 + PyTorch cu130 wheels.
# Minimal variant: only the compiler/header wheels are downloaded (~50 MB of wheels,
# 271 MB installed); libcuda/libcublas/libcublasLt/libcurand/libnvrtc are replaced at
# link time by generated stubs (same SONAMEs and symbol versions as the real CUDA 13 libs;
# verified to give an identical dynamic symbol table / DT_NEEDED / version needs).
# Usage: build-cuda.sh <cargo project dir> <cuda root dir (cache, reused)> [cargo build args...]
#   e.g. scripts/cuda/build-no-gpu.sh . ~/.cache/cu13 --release -p dialect-cli --features cuda
# (Contributors' recipe, for building on a machine without a GPU or CUDA toolkit. With a
# CUDA toolkit installed, a plain `cargo build --release -p dialect-cli --features cuda` is all it takes.)
set -euo pipefail
PROJ=$1; ROOT=$2; shift 2
# 1. CUDA 13.0 toolchain from PyPI. Pin EVERY piece: nvidia-cuda-nvcc 13.0.88 depends on
#    unpinned nvidia-nvvm / nvidia-cuda-crt, which would otherwise resolve to 13.5.x.
#    (cudarc 0.19.10 only knows CUDA <= 13.4, and PTX from a newer nvcc than the 580
#    driver's CUDA 13.0 cannot be JIT-compiled there.)
if [ ! -x "$ROOT/nvidia/cu13/bin/nvcc" ]; then
  python3 -m pip install --no-deps -q --target "$ROOT" \
    nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
fi
CU=$ROOT/nvidia/cu13
# 2. Link-time stubs generated from cudarc's own bindings (cudarc source in the cargo registry).
(cd "$PROJ" && cargo fetch -q)
C=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.10/src | head -1)
mkdir -p "$CU/lib/stubs" "$ROOT/stubsrc"
mkstub() { # out.so soname versioned(0/1) cudarc-module...
  local out=$1 soname=$2 ver=$3; shift 3
  local base=$ROOT/stubsrc/$(basename "$out" .so)
  for m in "$@"; do grep -oE "^pub unsafe fn [A-Za-z0-9_]+" "$C/$m/sys/mod.rs" | sed 's/pub unsafe fn //'; done \
    | sort -u | sed 's/.*/void &(void) {}/' > "$base.c"
  if [ "$ver" = 1 ]; then
    echo "$soname { global: *; };" > "$base.map"
    gcc -shared -fPIC -o "$out" -Wl,-soname,"$soname" -Wl,--version-script="$base.map" "$base.c"
  else
    gcc -shared -fPIC -o "$out" -Wl,-soname,"$soname" "$base.c"
  fi
}
mkstub "$CU/lib/stubs/libcuda.so" libcuda.so.1 0 driver        # the driver's libcuda is unversioned
mkstub "$CU/lib/libcublas.so"     libcublas.so.13 1 cublas
mkstub "$CU/lib/libcublasLt.so"   libcublasLt.so.13 1 cublaslt
mkstub "$CU/lib/libcurand.so"     libcurand.so.10 1 curand
mkstub "$CU/lib/libnvrtc.so"      libnvrtc.so.13 1 nvrtc
ln -sf libcublasLt.so "$CU/lib/libcublasLt.so.13"   # so ld can follow libcublas' DT_NEEDED
ln -sf libcudart.so.13 "$CU/lib/libcudart.so"       # real cudart (candle-kernels' libmoe links -lcudart)
# 3. Build. CUDA_HOME/CUDA_PATH/CUDA_ROOT -> cudarc's link search (lib, lib/stubs);
#    nvcc on PATH -> cudaforge (candle-kernels) and cudarc's `nvcc --version` (=> cuda-13000);
#    CUDA_COMPUTE_CAP=90 -> sm_90a PTX + cubins (no nvidia-smi here).
export CUDA_ROOT=$CU CUDA_HOME=$CU CUDA_PATH=$CU PATH=$CU/bin:$PATH CUDA_COMPUTE_CAP=90
cd "$PROJ" && time cargo build "$@"
