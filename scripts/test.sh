#!/usr/bin/env bash
# Set up and run every check: formatting, clippy, the dependency tree (cargo-deny:
# advisories, licences, sources), engine, CLI and app tests (unit, golden parity with
# transformers, a real fine-tune, the CLI on real files, Tauri commands, the generated
# UI contract ui/src/lib/contract.ts being current: scripts/contract.sh rewrites it), the
# UI's type check and component tests, and the end-to-end test of the real window under
# Xvfb, then the installer: the release .deb built (CUDA-enabled, as shipped) and
# installed, the installed CLI run and made to train on this GPU-less machine's CPU, the
# installed app's window opened on the Data and Train screens, then removed.
# Expects ../shared/data next to the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Never reach for a hub during tests: models come from fixtures or the seeded cache.
export HF_HUB_OFFLINE=1
cargo fmt --all -- --check
npm --prefix ui run check
npm --prefix ui test
cargo clippy --workspace --all-targets -- -D warnings
scripts/deny.sh
cargo clippy -p dialect-app --all-targets --features e2e-dialogs -- -D warnings
cargo test --workspace --all-targets
# The app's dialog paths, answered by the e2e-dialogs stand-ins.
cargo test -p dialect-app --all-targets --features e2e-dialogs
scripts/e2e.sh
# The installer, CUDA-enabled as shipped (a release build: 10-25 min on 2 cores with an
# empty target dir; the CUDA compiler comes from PyPI into ~/.cache/dialect/cu13).
deb=$(scripts/package.sh | tail -1)
scripts/install-smoke.sh --cuda "$deb"
