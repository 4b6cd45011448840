#!/usr/bin/env bash
# Set up what is missing (system packages, Rust, Node packages, the offline model) and
# launch the Dialect desktop app: a release build with the UI embedded.
# The headless CLI demo is scripts/demo-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
npm --prefix ui run build
cargo build --release -p dialect-app --features custom-protocol
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# Offline by default here: models come from the Hugging Face cache that setup seeded.
# Unset HF_HUB_OFFLINE (or run the binary directly) to let the app download models.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
exec "$target_dir/release/dialect-app" "$@"
