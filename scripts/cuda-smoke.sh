#!/usr/bin/env bash
# The CUDA-enabled CLI on a machine without NVIDIA software: it builds, needs no CUDA
# library at start, lists CUDA as unavailable with the reason, and trains the tiny BERT
# on the CPU with the default device, saying why the GPU is not used.
#
#   scripts/cuda-smoke.sh [TARGET_DIR] [CACHE_DIR]
#
# TARGET_DIR (default ~/.cache/dialect/target-cuda): a cargo target dir of its own;
# CACHE_DIR (default ~/.cache/dialect/cu13): the CUDA compiler's wheels. Keep both
# between runs: the first build takes ~25 minutes on 2 cores, later ones minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-$HOME/.cache/dialect/target-cuda}
cache=${2:-$HOME/.cache/dialect/cu13}
fail() { echo "cuda-smoke: FAILED: $*" >&2; exit 1; }

if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
  fail "this machine has the NVIDIA driver (libcuda.so.1): the CPU fallback cannot be checked here"
fi

scripts/cuda/build-release.sh "$target" "$cache"
dialect=$target/release/dialect

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 DIALECT_HOME=$work/home

devices=$("$dialect" devices)
echo "$devices"
grep -q '^cpu *available' <<<"$devices" || fail "dialect devices lists no usable CPU"
grep -q '^cuda *unavailable: no NVIDIA driver: libcuda.so.1 not found; install the NVIDIA driver, 580 or newer' <<<"$devices" \
  || fail "dialect devices does not say that the NVIDIA driver is missing"

# The engine tests' tiny task (tests/common: write_tiny_csv) and tiny BERT.
bug=("the app crashes when i click login" "error after update, page is blank" "sync crashes every time" "the button is not working" "blank screen on open")
feature=("please add dark mode" "would like an export option" "new request: add sync for phone" "please add a data export" "would like dark mode settings")
question=("how do i reset my password" "where can i change my email" "how do i get support" "can you help with my account" "how do i open a file")
{
  echo "text,label"
  for i in $(seq 0 9); do
    printf '"%s",bug\n"%s",feature_request\n"%s",general_inquiry\n' \
      "${bug[i % 5]}" "${feature[i % 5]}" "${question[i % 5]}"
  done
} > "$work/tickets.csv"

"$dialect" train "$work/tickets.csv" --model tests/fixtures/golden/bert/model \
  --epochs 1 --runs-dir "$work/runs" 2> "$work/train.log" || { cat "$work/train.log"; fail "dialect train exited with an error"; }
cat "$work/train.log"
grep -q '^GPU not used, training on the CPU: no NVIDIA driver: libcuda.so.1 not found' "$work/train.log" \
  || fail "dialect train did not say why the GPU is not used"
grep -q '^Training .* on cpu (f32)' "$work/train.log" || fail "dialect train did not train on the CPU"
device=$("$dialect" runs --json --runs-dir "$work/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["summary"]["device"])')
[ "$device" = cpu ] || fail "the run's record names device '$device', not cpu"
echo "cuda-smoke: ok (CUDA-enabled CLI, no CUDA library needed at start, trained on the CPU with the reason shown)"
