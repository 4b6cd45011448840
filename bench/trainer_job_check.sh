#!/usr/bin/env bash
# Dev-only check of the Trainer job export (needs bench/.venv with torch, transformers
# and accelerate): a Dialect run of all-MiniLM-L6-v2 on a tickettagger sample, exported
# with `dialect runs export --trainer-job`, the job's train.py run on the CPU through
# `accelerate launch` (single_gpu config, --cpu) and plainly, its output imported with
# `dialect runs import` and predicted with. Every accelerate config is also loaded by
# accelerate's own config reader. Prints both runs' validation accuracy, and the int8
# check and temperature the import gave the full run's model.
#   ROWS=600 EPOCHS=1 MAX_STEPS=10 bench/trainer_job_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ROWS=${ROWS:-600}
EPOCHS=${EPOCHS:-1}
MAX_STEPS=${MAX_STEPS:-10}
SHARED=${SHARED:-../shared/data}
MODEL=sentence-transformers/all-MiniLM-L6-v2
PY="$PWD/bench/.venv/bin/python"
work=$(mktemp -d)
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT
runs="$work/runs"
dialect="$PWD/target/debug/dialect"
cargo build -q -p dialect-cli
$PY -c "import accelerate" 2>/dev/null || bench/.venv/bin/pip install -q accelerate

accuracy() { # RUN_ID: the best epoch's validation accuracy
  $dialect runs show "$1" --json --runs-dir "$runs" | $PY -c \
    'import json,sys; s=json.load(sys.stdin)["summary"]; b=s["bestEpoch"]; print(next(e["metrics"]["accuracy"] for e in s["epochs"] if e["epoch"]==b))'
}

$dialect train "$SHARED/tickettagger_issues_train.csv" --model "$MODEL" --epochs "$EPOCHS" \
  --max-rows "$ROWS" --max-length 64 --device cpu --runs-dir "$runs" >/dev/null
id=$($dialect runs --json --runs-dir "$runs" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
job=$($dialect runs export "$id" "$work" --trainer-job --runs-dir "$runs")
echo "exported run $id to $job"

# accelerate's own reader accepts every config.
(cd "$job" && "$PY" - <<'PY'
import glob
from accelerate.commands.config.config_args import load_config_from_file
for f in sorted(glob.glob("accelerate/*.yaml")):
    c = load_config_from_file(f)
    print(f"{f}: {type(c).__name__}, distributed_type {c.distributed_type}")
PY
)

start=$(date +%s)
(cd "$job" && "$(dirname "$PY")/accelerate" launch --config_file accelerate/single_gpu.yaml \
  --cpu --num_processes 1 train.py --max-steps "$MAX_STEPS" --output "$work/steps")
steps_id=$($dialect runs import "$work/steps" --runs-dir "$runs")
echo "accelerate launch --max-steps $MAX_STEPS: $(( $(date +%s) - start )) s, imported as $steps_id"

start=$(date +%s)
$PY "$job/train.py" --output "$work/full" >/dev/null 2>&1
full_id=$($dialect runs import "$work/full" --runs-dir "$runs")
echo "python train.py (the run's recipe, $EPOCHS epoch(s)): $(( $(date +%s) - start )) s, imported as $full_id"

$dialect predict "$runs/$full_id/model" "The app crashes when I open settings" "Please add a dark theme"
$PY - "$runs/$full_id/model/dialect.json" <<'PY'
import json, sys
card = json.load(open(sys.argv[1]))
i, c = card["int8"], card["calibration"]
print(f"imported model: int8 agreement {i['agreement']:.3f} on {i['rows']} rows, accuracy "
      f"{i['f32Accuracy']:.4f} -> {i['int8Accuracy']:.4f}; temperature {c['temperature']:.3f}, "
      f"ECE {c['eceBefore']:.3f} -> {c['eceAfter']:.3f}")
PY
echo "validation accuracy: dialect $(accuracy "$id"), trainer --max-steps $MAX_STEPS $(accuracy "$steps_id"), trainer full $(accuracy "$full_id")"
