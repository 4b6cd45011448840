#!/usr/bin/env bash
# Set up and run every check: formatting, clippy, and all tests (unit, golden parity
# with transformers, a real fine-tune, CLI). Expects ../shared/data next to the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Never reach for a hub during tests: models come from fixtures or the seeded cache.
export HF_HUB_OFFLINE=1
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
