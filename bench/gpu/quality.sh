#!/usr/bin/env bash
# The quality harness at full size on the GPU machine (after `bench/gpu/stage.sh` here,
# with .gpu carried): bench/quality.sh with SIZE=full on both data sets, Dialect's CUDA
# build vs the Trainer on the machine's own torch, five seeds, both of Dialect's batch
# orders. A seed takes seconds on an H200. Results accumulate in $OUT/results.jsonl
# and the tables print at the end; copy them into bench/README.md.
set -euo pipefail
export DIALECT_HOME=${DIALECT_HOME:-/tmp/dialect-home}
export PYTHONUNBUFFERED=1
. .gpu/env-on-gpu.sh
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
gunzip -c .gpu/dialect.gz > /tmp/dialect && chmod +x /tmp/dialect
SIZE=full DEVICE=cuda DIALECT=/tmp/dialect PYTHON=python3 MODEL=.gpu/minilm SHARED=.gpu/data \
  VARIANTS=${VARIANTS:-random grouped} OUT="$OUT" THREADS=${THREADS:-8} bash bench/quality.sh
