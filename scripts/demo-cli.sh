#!/usr/bin/env bash
# The headless CLI demo: set up, then fine-tune the offline default model
# (sentence-transformers/all-MiniLM-L6-v2) on the bundled Banking77 sample with the
# Hugging Face recipe, then classify a few messages with the result.
# Extra arguments go to `dialect train` (e.g. --epochs 1) and override the defaults here.
# MiniLM is a small model: it wants a higher learning rate than the recipe's 2e-5
# (which is for DistilBERT), so this demo uses 1e-4.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p dialect-cli
# The run is recorded in the run store the app shows too; --out copies the model here.
OUT=${DIALECT_OUT:-$(mktemp -d)/banking77-model}
HF_HUB_OFFLINE=1 target/release/dialect train samples/banking77.csv \
  --model sentence-transformers/all-MiniLM-L6-v2 --lr 1e-4 --out "$OUT" "$@"
target/release/dialect predict "$OUT" \
  "I still have not received my new card" \
  "Why was I charged a fee for my transfer?" \
  "How do I change my PIN?"
