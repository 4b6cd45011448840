#!/usr/bin/env bash
# Explanations ("why this class", `Predictor::explain`): faithfulness and latency. A
# seeded share of the data file is held out; all-MiniLM-L6-v2 is fine-tuned on the
# rest by the CLI (or MODEL=FOLDER is used as it is); then, on N held-out tickets, the
# predicted class's probability drop when the k words the explanation ranks highest
# are deleted, against k words drawn at random (DRAWS draws) and the k ranked lowest,
# k = 1, 3, 5, and the explanation's latency (all tickets, and those filling the 128
# tokens), with the model computing in f32 and in int8. One JSON line per data set and
# precision (examples/bench_explain.rs), then Markdown tables (~20 min on 2 cores).
#   THREADS=2 N=200 DRAWS=5 TRAIN_ROWS=2000 EPOCHS=2 PRECISIONS="f32 int8" bench/explain.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
THREADS=${THREADS:-2}
N=${N:-200}
DRAWS=${DRAWS:-5}
SEED=${SEED:-42}
HELD_OUT=${HELD_OUT:-400}
TRAIN_ROWS=${TRAIN_ROWS:-2000}
PRECISIONS=${PRECISIONS:-f32 int8}
EPOCHS=${EPOCHS:-2}
DATA_DIR=${DATA_DIR:-../shared/data}
DATA=${DATA:-"$DATA_DIR/tickettagger_issues_train.csv $DATA_DIR/banking77_train.csv"}
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-rel ]; then
  export CARGO_TARGET_DIR=/work/target-rel
fi
work=$(mktemp -d)
# Runs the harness makes stay in its scratch folder, not the user's run store.
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet -p dialect-cli
cargo build --release --quiet --example bench_explain
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

for data in $DATA; do
  name=$(basename "$data" .csv)
  # Held-out tickets the model never trains on: a seeded shuffle, the first HELD_OUT.
  python3 - "$data" "$work/$name-held.csv" "$work/$name-train.csv" "$HELD_OUT" "$SEED" <<'PY'
import csv, random, sys
src, held, train, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = list(csv.DictReader(open(src, encoding="utf-8")))
random.Random(seed).shuffle(rows)
for path, part in ((held, rows[:n]), (train, rows[n:])):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "label"])
        w.writeheader()
        w.writerows({"text": r["text"], "label": r["label"]} for r in part)
PY
  model=${MODEL:-}
  if [ -z "$model" ]; then
    model="$work/$name-model"
    RAYON_NUM_THREADS=$THREADS "$target/dialect" train "$work/$name-train.csv" \
      --model sentence-transformers/all-MiniLM-L6-v2 --max-rows "$TRAIN_ROWS" \
      --epochs "$EPOCHS" --max-length 128 --lr 1e-4 --device cpu --seed "$SEED" \
      --out "$model" --json >/dev/null
  fi
  for precision in $PRECISIONS; do
    RAYON_NUM_THREADS=$THREADS "$target/examples/bench_explain" \
      "$model" "$work/$name-held.csv" "$N" "$DRAWS" "$SEED" "$precision" | tee -a "$work/runs.jsonl"
  done
done

python3 - "$work/runs.jsonl" <<'PY'
import json, os, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
first = runs[0]
print(f"\nMachine: {first['cpu']}, {first['threads']} threads; {first['draws']} random draws per ticket and k.\n")
print("| set | precision | tickets | classes | held-out accuracy | k | top-k drop | random drop | bottom-k drop | top-k beats random | class flips: top-k / random |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    name = os.path.basename(r["data"]).replace("-held.csv", "")
    for d in r["deletions"]:
        print(f"| {name} | {r['precision']} | {d['tickets']} | {r['classes']} | {r['accuracy']:.3f} | {d['k']} | "
              f"**{d['top_k_mean_drop']:.3f}** | {d['random_mean_drop']:.3f} | {d['bottom_k_mean_drop']:.3f} | {d['top_k_beats_random']:.0%} | "
              f"{d['top_k_flips']:.0%} / {d['random_flips']:.0%} |")
print()
print("Latency: wall time, and in brackets the process's CPU time over its threads (the wall time idle cores would give; "
      f"load average at the end of each run: {', '.join(r['load_average'] for r in runs)}).\n")
print("| set | precision | words per ticket | latency p50 / p95 (ms) | tickets at 128 tokens | their words | their latency p50 / p95 (ms) |")
print("|---|---|---|---|---|---|---|")
def ms(block):
    return (f"{block['latency_ms']['p50']:.0f} / {block['latency_ms']['p95']:.0f} "
            f"({block['cpu_ms_per_thread']['p50']:.0f} / {block['cpu_ms_per_thread']['p95']:.0f})")
for r in runs:
    name = os.path.basename(r["data"]).replace("-held.csv", "")
    f = r["full_length"]
    full = f"{f['tickets']} | {f['words_mean']:.1f} | {ms(f)}" if f["tickets"] else "0 | — | —"
    print(f"| {name} | {r['precision']} | {r['words_mean']:.1f} | {ms(r)} | {full} |")
PY
