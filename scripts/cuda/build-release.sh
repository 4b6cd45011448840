#!/usr/bin/env bash
# Build the CUDA-enabled release `dialect` CLI (with --app, also the app with its UI
# embedded) on any x86-64 Linux machine, GPU or not, and check that neither binary needs
# a CUDA library at start (they load the driver and CUDA libraries at run time and train
# on the CPU where those are missing).
#
#   scripts/cuda/build-release.sh TARGET_DIR CACHE_DIR [--app]
#
# TARGET_DIR: a cargo target dir of its own (a `cuda` build of candle in the shared
# target/ would rebuild it for every other build). CACHE_DIR: the CUDA compiler's
# install (scripts/cuda/toolchain.sh), reused. The binaries: TARGET_DIR/release/dialect
# and TARGET_DIR/release/dialect-app. --app needs the UI built (npm --prefix ui run build).
# For the .deb: DIALECT_FEATURES=cuda CARGO_TARGET_DIR=TARGET_DIR \
#   scripts/cuda/toolchain.sh CACHE_DIR scripts/package.sh
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 TARGET_DIR CACHE_DIR [--app]" >&2; exit 2; }
target=$1 cache=$2 app=${3:-}
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
packages=(-p dialect-cli) features=dialect-cli/cuda bins=(dialect)
if [ "$app" = --app ]; then
  [ -f ui/dist/index.html ] || { echo "build-release: no ui/dist; run npm --prefix ui run build first" >&2; exit 1; }
  packages+=(-p dialect-app) features+=,dialect-app/cuda,dialect-app/custom-protocol bins+=(dialect-app)
fi
CARGO_TARGET_DIR=$target scripts/cuda/toolchain.sh "$cache" \
  cargo build --release --locked "${packages[@]}" --features "$features"
scripts/cuda/no-cuda-needed.sh "${bins[@]/#/$target/release/}"
