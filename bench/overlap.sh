#!/usr/bin/env bash
# Overlap between a training file and a validation file (`dataset::overlap`): Banking77
# (10,377 rows) against 3,000 validation rows built from it and from Ticket Tagger
# (1,000 repeats with case and punctuation changed, 1,000 with one word replaced, 1,000
# unrelated), checked against comparing every pair; then a real 10% split of
# Banking77, with its lowest near pairs to read. One JSON object (examples/bench_overlap.rs).
#   SEED=42 bench/overlap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
DATA_DIR=${DATA_DIR:-../shared/data}
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-rel ]; then
  export CARGO_TARGET_DIR=/work/target-rel
fi
cargo build --release --quiet --example bench_overlap
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/examples/bench_overlap" "$DATA_DIR/banking77_train.csv" "$DATA_DIR/tickettagger_issues_train.csv" "${SEED:-42}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
