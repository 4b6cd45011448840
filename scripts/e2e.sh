#!/usr/bin/env bash
# End-to-end test of the real app window: builds the UI and the app (UI embedded),
# starts Xvfb (when there is no display) and tauri-driver, and runs the flows with
# WebdriverIO, which drives the window through WebKitWebDriver and saves a screenshot
# of every screen to docs/screenshots/: e2e/flow.mjs (the analyst's whole loop) and
# e2e/multi_label.mjs (label sets), each on a fresh app and run store.
# DIALECT_E2E_FLOWS="multi_label" runs only the named ones. Needs scripts/setup.sh.
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

. scripts/lib/window.sh
start_display "$work/xvfb.log"

# What the app sees: an empty run store, no network, and the answers the native
# dialogs would give (the dialogs themselves cannot be driven; e2e-dialogs build).
export HF_HUB_OFFLINE=1

# Run one flow on a fresh run store; its file pickers answer with $2. The app inherits
# its environment from tauri-driver, so each flow starts a driver of its own.
run_flow() {
  local flow=$1 open_file=$2
  export DIALECT_HOME="$work/$flow/home"
  export DIALECT_OPEN_FILE="$open_file"
  export DIALECT_SAVE_FILE="$work/$flow/predictions.csv"
  export DIALECT_SAVE_DIR="$work/$flow/export"
  # A Trainer job's output, which the flow shapes there before it imports it.
  export DIALECT_IMPORT_DIR="$work/$flow/trainer-output"
  mkdir -p "$DIALECT_SAVE_DIR"
  local driver
  start_driver 4444 "$work/$flow/tauri-driver.log" || exit 1
  if ! node "e2e/$flow.mjs"; then
    echo "e2e: $flow failed; tauri-driver log:"; tail -50 "$work/$flow/tauri-driver.log"
    exit 1
  fi
  pkill -P "$driver" 2>/dev/null || true  # its WebKitWebDriver
  kill "$driver" 2>/dev/null || true
  wait "$driver" 2>/dev/null || true
}

for flow in ${DIALECT_E2E_FLOWS:-flow multi_label}; do
  case $flow in
    flow)
      mkdir -p "$work/flow"
      run_flow flow "${DIALECT_E2E_TICKETS:-$PWD/../shared/data/tickettagger_issues_train.csv}" ;;
    multi_label)
      mkdir -p "$work/multi_label"
      python3 e2e/make_multi_label.py ../shared/data/banking77_train.csv "$work/multi_label/tags.csv"
      run_flow multi_label "$work/multi_label/tags.csv" ;;
    *) echo "e2e: no flow named $flow (flow, multi_label)"; exit 2 ;;
  esac
done
