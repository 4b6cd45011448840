#!/usr/bin/env bash
# Suspect labels: how many deliberately wrong labels they find, and how fast. On each
# data set, a seeded share of labels (5%) is flipped to another class, then
# `find_suspects` runs with all-MiniLM-L6-v2 on the CPU (max length 128, 5 folds) and
# the flipped tickets are looked for among the top k suspects (k = the number flipped).
# One JSON line per run (examples/bench_suspects.rs), then a Markdown table.
#   THREADS=2 SEEDS="42 7 1" FRACTION=0.05 FOLDS=5 bench/suspects.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
THREADS=${THREADS:-2}
SEEDS=${SEEDS:-42 7 1}
FRACTION=${FRACTION:-0.05}
FOLDS=${FOLDS:-5}
DATA_DIR=${DATA_DIR:-../shared/data}
DATA=${DATA:-"$DATA_DIR/banking77_train.csv $DATA_DIR/tickettagger_issues_train.csv"}
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-rel ]; then
  export CARGO_TARGET_DIR=/work/target-rel
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example bench_suspects
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

for data in $DATA; do
  for seed in $SEEDS; do
    RAYON_NUM_THREADS=$THREADS "$target/examples/bench_suspects" \
      "$data" "$FRACTION" "$seed" "" "$FOLDS" | tee -a "$work/runs.jsonl"
  done
done

python3 - "$work/runs.jsonl" <<'PY'
import json, os, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
first = runs[0]
print(f"\nMachine: {first['cpu']}, "
      f"{first['threads']} threads; {first['folds']} folds, {first['flip_fraction']:.0%} of labels flipped.\n")
print("| set | rows | classes | flips (k) | recall@k per seed | mean | flagged (recall of the list) | held-out accuracy | seconds total | of which encoding |")
print("|---|---|---|---|---|---|---|---|---|---|")
sets = {}
for r in runs:
    sets.setdefault(r["data"], []).append(r)
for data, rs in sets.items():
    recall = [r["recall_at_k"] for r in rs]
    per_seed = ", ".join(f"{r['seed']}: {r['recall_at_k']:.3f}" for r in rs)
    flagged = ", ".join(f"{r['flagged']} ({r['recall_flagged']:.2f})" for r in rs)
    secs = statistics.median(r["seconds"] for r in rs)
    enc = statistics.median(r["encoding_seconds"] / r["seconds"] for r in rs)
    acc = statistics.mean(r["held_out_accuracy"] for r in rs)
    print(f"| {os.path.basename(data)} | {rs[0]['rows']:,} | {rs[0]['classes']} | {rs[0]['k']} | {per_seed} | "
          f"**{statistics.mean(recall):.3f}** | {flagged} | {acc:.3f} | {secs:.1f} (median) | {enc:.0%} |")
PY
