#!/usr/bin/env bash
# Regenerate ui/src/lib/contract.ts, the UI ↔ Rust contract, from the Rust types that
# cross the boundary (src-tauri/tests/contract.rs). `cargo test` fails while the
# checked-in file differs from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
DIALECT_UPDATE_CONTRACT=1 cargo test -p dialect-app --test contract -- \
  the_checked_in_contract_is_generated_from_the_rust_types
echo "contract: wrote ui/src/lib/contract.ts"
