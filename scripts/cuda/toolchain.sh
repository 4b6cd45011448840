#!/usr/bin/env bash
# Run a command with the CUDA 13.0 compiler on PATH, for building with `--features cuda`
# on a machine with no CUDA toolkit and no GPU (nvcc, headers and the static CUDA runtime
# come from pinned PyPI wheels, ~50 MB, installed once into CACHE_DIR).
#
#   scripts/cuda/toolchain.sh CACHE_DIR COMMAND [ARGS...]
#   e.g. CARGO_TARGET_DIR=/work/target-cuda scripts/cuda/toolchain.sh ~/.cache/cu13 \
#          cargo build --release -p dialect-cli --features cuda
#        DIALECT_FEATURES=cuda scripts/cuda/toolchain.sh ~/.cache/cu13 scripts/package.sh
#
# The binary it builds loads the NVIDIA driver and CUDA libraries at run time (cudarc's
# dynamic loading; candle-kernels links the CUDA runtime statically, vendor/README.md):
# it starts on any Linux machine and trains on the CPU where they are missing.
# CUDA_COMPUTE_CAP (default 80): the oldest GPU generation served. Candle's bf16 kernels
# need 8.0 (Ampere); PTX for compute_80 is JIT-compiled by the driver for every newer GPU.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 CACHE_DIR COMMAND [ARGS...]" >&2; exit 2; }
ROOT=$1; shift
# Pin EVERY piece: nvidia-cuda-nvcc 13.0.88 depends on unpinned nvidia-nvvm /
# nvidia-cuda-crt, which would otherwise resolve to newer releases. cudarc 0.19.10 knows
# CUDA <= 13.4, and PTX from an nvcc newer than the driver's CUDA cannot be JIT-compiled
# there: 13.0 matches the oldest driver that runs CUDA 13 (580).
if [ ! -x "$ROOT/nvidia/cu13/bin/nvcc" ] || [ ! -f "$ROOT/nvidia/cu13/lib/libcudart_static.a" ]; then
  python3 -m pip install --no-deps -q --target "$ROOT" \
    nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
fi
CU=$(cd "$ROOT/nvidia/cu13" && pwd)
# CUDA_HOME/CUDA_PATH/CUDA_ROOT: where candle-kernels finds libcudart_static.a; nvcc on
# PATH: cudaforge (candle-kernels), build.rs (Dialect's kernels) and cudarc's
# `nvcc --version` (which picks the CUDA 13.0 bindings).
export CUDA_ROOT=$CU CUDA_HOME=$CU CUDA_PATH=$CU PATH=$CU/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-80}
exec "$@"
