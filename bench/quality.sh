#!/usr/bin/env bash
# Model quality, Dialect vs transformers' Trainer, over seeds: the seed recipe (lr 2e-5,
# batch 16, weight decay 0.01, 3 epochs, evaluate each epoch, keep the best by
# validation accuracy, max length 128, dynamic padding on the Trainer's side) on both
# ../shared/data sets, with train/validation/test splits made once and saved
# (bench/quality/split.py); the test part is scored once per run and never used for
# selection. Each Dialect model is also scored in int8 on the test set (`dialect
# quantize`). Prints mean ± sd of test accuracy and macro-F1 per side and variant, and
# the differences (bench/quality/summarize.py). Results accumulate in
# bench/.quality/results.jsonl: a run that is already there is not repeated.
#
#   bench/quality.sh                 CPU size (subsampled sets, ~1 hour on 2 idle cores)
#   SIZE=full bench/quality.sh       full-size sets (GPU machine: bench/gpu/quality.sh)
#   SEEDS="42 7 1 13 99"             seeds per side (default: these five)
#   SETS="tickettagger banking77"    which sets
#   VARIANTS="random grouped"        Dialect's batch orders (default random, as the
#                                    Trainer; grouped: --group-by-length)
#   PEER=0                           skip the Trainer
#   DIALECT, PYTHON, MODEL, DEVICE   a prebuilt binary, the peer's Python (with torch and
#                                    transformers), a model folder, cuda (GPU machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SIZE=${SIZE:-cpu}
SEEDS=${SEEDS:-42 7 1 13 99}
SETS=${SETS:-tickettagger banking77}
VARIANTS=${VARIANTS:-random}
PEER=${PEER:-1}
THREADS=${THREADS:-$(nproc)}
DEVICE=${DEVICE:-cpu}
DIALECT=${DIALECT:-}
MODEL=${MODEL:-sentence-transformers/all-MiniLM-L6-v2}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-bench/.quality}
mkdir -p "$OUT/data"
results="$OUT/results.jsonl"
touch "$results"
work=$(mktemp -d)
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT

if [ "$PEER" = 1 ] && [ -z "${PYTHON:-}" ]; then
  [ -x bench/.venv/bin/python ] || python3 -m venv --system-site-packages bench/.venv
  bench/.venv/bin/pip install -q -r bench/requirements.txt
fi
PYTHON=${PYTHON:-bench/.venv/bin/python}
if [ -z "$DIALECT" ]; then
  cargo build --release --quiet -p dialect-cli
  DIALECT=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/dialect
fi
if [ -d "$MODEL" ]; then
  model_dir=$MODEL
else
  scripts/seed-model-cache.sh >/dev/null
  model_dir=$(python3 -c "import glob,os; print(glob.glob(os.path.expanduser(os.environ.get('HF_HOME','~/.cache/huggingface')+'/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/'))[0])")
fi
echo "splits ($SIZE):"
python3 bench/quality/split.py "$SHARED" "$OUT/data" "$SIZE"
source bench/machine.sh
machine "$DIALECT"

# done KEY → true when results.jsonl already holds that run.
done_already() { grep -q "\"key\": \"$1\"" "$results"; }
for set in $SETS; do
  data="$OUT/data/${set}_${SIZE}"
  for seed in $SEEDS; do
    for variant in $VARIANTS; do
      key="$SIZE/$set/dialect-$variant/$seed"
      done_already "$key" && continue
      echo "$key"
      case $variant in
        random) order=() ;;
        grouped) order=(--group-by-length) ;;
        *) echo "unknown variant $variant"; exit 2 ;;
      esac
      start=$(date +%s.%N)
      RAYON_NUM_THREADS=$THREADS "$DIALECT" train "${data}_train.csv" --validation "${data}_val.csv" \
        --model "$MODEL" --seed "$seed" --epochs 3 --device "$DEVICE" "${order[@]}" \
        --out "$work/m" --json >"$work/train.jsonl" 2>"$work/err" \
        || { echo "dialect failed:"; tail -5 "$work/err"; exit 1; }
      seconds=$(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$start")
      RAYON_NUM_THREADS=$THREADS "$DIALECT" eval "$work/m" "${data}_test.csv" --device "$DEVICE" \
        --precision f32 --json >"$work/eval.json"
      # int8 prediction against f32 on the same test rows (on the CPU).
      RAYON_NUM_THREADS=$THREADS "$DIALECT" quantize "$work/m" "${data}_test.csv" --json >"$work/int8.json"
      python3 - "$key" "$set" "dialect-$variant" "$seed" "$seconds" "$work" >>"$results" <<'PY'
import json, sys
key, set_, side, seed, seconds, work = sys.argv[1:]
events = [json.loads(l) for l in open(f'{work}/train.jsonl') if l.strip()]
evals = [e for e in events if e.get('type') == 'evaluated']
test = json.load(open(f'{work}/eval.json'))
int8 = json.load(open(f'{work}/int8.json'))
print(json.dumps({'key': key, 'set': set_, 'side': side, 'seed': int(seed),
                  'test_accuracy': round(test['accuracy'], 4), 'test_macro_f1': round(test['macroF1'], 4),
                  'int8_test_accuracy': round(int8['int8Accuracy'], 4),
                  'int8_test_macro_f1': round(int8['int8MacroF1'], 4),
                  'int8_agreement': round(int8['agreement'], 4),
                  'epoch_accuracy': [round(e['metrics']['accuracy'], 4) for e in evals],
                  'samples_per_second': [round(e['samplesPerSecond'], 2) for e in evals],
                  'seconds': float(seconds)}))
PY
      tail -n 1 "$results"
    done
    if [ "$PEER" = 1 ]; then
      key="$SIZE/$set/trainer/$seed"
      done_already "$key" && continue
      echo "$key"
      start=$(date +%s.%N)
      OMP_NUM_THREADS=$THREADS "$PYTHON" bench/peers/train_trainer.py "$model_dir" \
        "${data}_train.csv" "${data}_val.csv" 3 "$THREADS" dynamic --seed "$seed" \
        --test "${data}_test.csv" >"$work/peer.json" 2>"$work/err" \
        || { echo "trainer failed:"; tail -5 "$work/err"; exit 1; }
      seconds=$(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$start")
      python3 - "$key" "$set" "$seed" "$seconds" "$work/peer.json" >>"$results" <<'PY'
import json, sys
key, set_, seed, seconds, path = sys.argv[1:]
p = json.loads(open(path).read().strip().splitlines()[-1])
print(json.dumps({'key': key, 'set': set_, 'side': 'trainer', 'seed': int(seed),
                  'test_accuracy': p['test_accuracy'], 'test_macro_f1': p['test_macro_f1'],
                  'epoch_accuracy': p['epoch_accuracy'], 'samples_per_second': [p['samples_per_second']],
                  'seconds': float(seconds)}))
PY
      tail -n 1 "$results"
    fi
  done
done
python3 bench/quality/summarize.py "$results" "$SIZE"
