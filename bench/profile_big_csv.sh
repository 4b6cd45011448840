#!/usr/bin/env bash
# Benchmark: profile a generated ~1 GB ticket CSV (time and peak memory), then the full
# inspection (profile + data check, which holds the texts in memory). Dev-only.
# Usage: bench/profile_big_csv.sh [SIZE_MB]   (needs /usr/bin/time, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}
CSV=${TMPDIR:-/tmp}/dialect-bench-${SIZE}mb.csv
[ -f "$CSV" ] || python3 bench/gen_big_csv.py "$CSV" "$SIZE"
cargo build --release --quiet -p dialect-cli
for mode in "--profile-only" ""; do
  echo "== dialect inspect $mode ($(du -hL "$CSV" | cut -f1))"
  /usr/bin/time -f "wall %e s, peak RSS %M KiB" target/release/dialect inspect "$CSV" $mode --json > /dev/null
done
