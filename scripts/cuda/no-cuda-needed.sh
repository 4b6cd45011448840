#!/usr/bin/env bash
# Fail if a binary names a CUDA library as needed at start (ELF DT_NEEDED): a `cuda`
# build must load them at run time, so that it starts on machines without them.
#   scripts/cuda/no-cuda-needed.sh BINARY...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
for bin in "$@"; do
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  cuda=$(grep -E '^lib(cuda|cudart|cublas|cublasLt|curand|nvrtc|cudnn|nccl)\.so' <<<"$needed" || true)
  if [ -n "$cuda" ]; then
    echo "no-cuda-needed: $bin needs CUDA libraries at start: $(tr '\n' ' ' <<<"$cuda")" >&2
    exit 1
  fi
  echo "no-cuda-needed: $bin needs at start only: $(tr '\n' ' ' <<<"$needed")"
done
