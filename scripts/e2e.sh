#!/usr/bin/env bash
# End-to-end test of the real app window: builds the UI and the app (UI embedded),
# starts Xvfb (when there is no display) and tauri-driver, and runs e2e/flow.mjs with
# WebdriverIO, which drives the window through WebKitWebDriver and saves a screenshot
# of every screen to docs/screenshots/. Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

npm --prefix ui run build
# e2e-dialogs: the DIALECT_* variables below answer the native dialogs (only this
# build and the command tests have that stand-in; release builds ignore them).
cargo build -p dialect-app --features custom-protocol,e2e-dialogs
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export DIALECT_APP_BINARY="$target_dir/debug/dialect-app"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${DIALECT_E2E_KEEP:-}" ] && echo "e2e: kept $work" || rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ]; then
  display=99
  while [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
  Xvfb ":$display" -screen 0 1440x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
  pids+=($!)
  export DISPLAY=":$display"
fi

# What the app sees: an empty run store, no network, and the answers the native
# dialogs would give (the dialogs themselves cannot be driven; e2e-dialogs build).
export DIALECT_HOME="$work/home"
export HF_HUB_OFFLINE=1
export DIALECT_OPEN_FILE="${DIALECT_E2E_TICKETS:-$PWD/../shared/data/tickettagger_issues_train.csv}"
export DIALECT_SAVE_FILE="$work/predictions.csv"
export DIALECT_SAVE_DIR="$work/export"
mkdir -p "$DIALECT_SAVE_DIR"

tauri-driver --port 4444 >"$work/tauri-driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:4444/status >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf http://127.0.0.1:4444/status >/dev/null || {
  echo "e2e: tauri-driver did not start"; cat "$work/tauri-driver.log"; exit 1; }

if ! node e2e/flow.mjs; then
  echo "e2e: failed; tauri-driver log:"; tail -50 "$work/tauri-driver.log"
  exit 1
fi
