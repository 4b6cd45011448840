#!/usr/bin/env bash
# Prediction speed, Dialect vs PyTorch eager, on the same machine in one run: the same
# fine-tuned all-MiniLM-L6-v2 (trained here by the CLI and saved in Hugging Face
# layout), the same Ticket Tagger texts truncated at 128 tokens, the same thread count.
# Prints single-ticket latency p50/p95 (warm, one text at a time, like the Try box),
# batch throughput, and the ratios, for Dialect in f32 and in int8 (how often int8
# predicts the same class as f32 on these texts is printed too). The peer runs in bench/.venv (made here).
#   THREADS=2 ROUNDS=3 DATA=../shared/data/tickettagger_issues_train.csv bench/predict.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
THREADS=${THREADS:-2}
DATA=${DATA:-../shared/data/tickettagger_issues_train.csv}
SINGLE_N=${SINGLE_N:-200}
BATCH_N=${BATCH_N:-512}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
# Runs the harness makes stay in its scratch folder, not the user's run store.
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT

[ -x bench/.venv/bin/python ] || python3 -m venv --system-site-packages bench/.venv
bench/.venv/bin/pip install -q -r bench/requirements.txt

source bench/machine.sh
cargo build --release --quiet -p dialect-cli
cargo build --release --quiet --example bench_predict
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

# Speed does not depend on how well the model learnt: a short run is enough.
"$target/dialect" train "$DATA" --model sentence-transformers/all-MiniLM-L6-v2 \
  --max-rows 200 --epochs 1 --max-length 128 --lr 1e-4 --device cpu \
  --out "$work/model" --json >/dev/null
python3 - "$DATA" >"$work/texts.txt" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print(" ".join(row["text"].split()))
PY

# Rounds alternate the two sides, so that a VM's drift over minutes (±15% here) falls
# on both; each figure is the median over rounds.
for round in $(seq 1 "$ROUNDS"); do
  RAYON_NUM_THREADS=$THREADS "$target/examples/bench_predict" \
    "$work/model" "$work/texts.txt" "$SINGLE_N" "$BATCH_N" >"$work/ours-$round.json"
  OMP_NUM_THREADS=$THREADS bench/.venv/bin/python bench/peers/predict_torch.py \
    "$work/model" "$work/texts.txt" "$SINGLE_N" "$BATCH_N" "$THREADS" >"$work/peer-$round.json"
done
python3 - "$work" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def median(side):
    runs = [json.load(open(f"{work}/{side}-{r}.json")) for r in range(1, rounds + 1)]
    def walk(first, path):
        if isinstance(first, dict):
            return {k: walk(v, path + [k]) for k, v in first.items()}
        values = []
        for run in runs:
            for k in path:
                run = run[k]
            values.append(run)
        return statistics.median(values) if isinstance(first, (int, float)) else first
    return walk(runs[0], [])
for side in ("ours", "peer"):
    json.dump(median(side), open(f"{work}/{side}.json", "w"))
PY

machine "$target/dialect"
python3 - "$work/ours.json" "$work/peer.json" "$THREADS" "$ROUNDS" <<'PY'
import json, sys
ours, peer = (json.load(open(p)) for p in sys.argv[1:3])
print(f"prediction, all-MiniLM-L6-v2, Ticket Tagger texts ≤128 tokens, {sys.argv[3]} threads, "
      f"median of {sys.argv[4]} alternating rounds")
print(f"{'':28}{'PyTorch':>10}{'Dialect f32':>13}{'ratio':>8}{'Dialect int8':>14}{'ratio':>8}")
for key, label, better_low in [("p50_ms", "single ticket p50 (ms)", True),
                               ("p95_ms", "single ticket p95 (ms)", True),
                               ("batch_texts_per_s", f"batch of {ours['batch_n']} (texts/s)", False)]:
    cells = f"{label:28}{peer[key]:>10.1f}"
    for precision in ("f32", "int8"):
        value = ours[precision][key]
        ratio = peer[key] / value if better_low else value / peer[key]
        cells += f"{value:>{13 if precision == 'f32' else 14}.1f}{ratio:>7.2f}×"
    print(cells)
print("ratio > 1: Dialect is faster")
print(f"int8 against f32 on the {ours['batch_n']} batch texts: same class for "
      f"{100 * ours['int8_agreement']:.1f}%, largest probability change "
      f"{ours['int8_max_probability_change']:.4f} (accuracy: the int8 check, bench/quality.sh)")
PY
