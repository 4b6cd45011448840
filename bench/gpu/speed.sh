#!/usr/bin/env bash
# One-shot GPU check (run on the device machine after `bench/gpu/stage.sh` here, with
# .gpu carried): the device self-test, training speed of Dialect (f32/TF32 and bf16
# mixed precision) vs transformers' Trainer (fp32 and bf16) on a DistilBERT-base-shaped
# and the real MiniLM-L6 model with the same rows, f32 vs bf16 held-out accuracy, and
# the out-of-memory message. Figures land in $OUT (and on stdout).
set -u
# Runs stay in a scratch store, not the user's.
export DIALECT_HOME=${DIALECT_HOME:-/tmp/dialect-home}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
. .gpu/env-on-gpu.sh
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee $OUT/gpu.txt
gunzip -c .gpu/dialect.gz > /tmp/dialect && chmod +x /tmp/dialect
D=/tmp/dialect
python3 bench/gpu/prep.py 2>&1 | grep -v Warn
# Peak GPU memory of a command: nvidia-smi sampled every 100 ms, minus the idle level.
peak() { # label command...
  local label=$1; shift
  local idle; idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > /tmp/mem.$label &
  local mon=$!
  "$@"; local rc=$?
  kill $mon 2>/dev/null; wait $mon 2>/dev/null
  echo "PEAK $label $(( $(sort -n /tmp/mem.$label | tail -1) - idle )) MiB rc=$rc"
}
echo "== device self-test"
timeout 90 $D devices --check | tee $OUT/check.txt
for model in distil minilm; do
  M=/tmp/distil; [ $model = minilm ] && M=.gpu/minilm
  for prec in f32 bf16; do
    echo "== Dialect $model $prec, 2 epochs"
    peak d_${model}_$prec timeout 150 $D train /tmp/tt_train.csv --model $M --device cuda \
      --precision $prec --epochs 2 --out /tmp/m_${model}_$prec --json > $OUT/d_${model}_$prec.jsonl 2> $OUT/d_${model}_$prec.err
    python3 bench/gpu/summarize.py $OUT/d_${model}_$prec.jsonl
  done
  peers=("--bf16" "--bf16 --group-by-length"); [ $model = distil ] && peers=("" "${peers[@]}")
  for flags in "${peers[@]}"; do
    echo "== Trainer $model $flags, 2 epochs"
    peak "hf_${model}${flags// /}" bash -c "timeout 150 python3 bench/gpu/hf_peer.py $M /tmp/tt_train.csv 2 $flags 2>&1 \
      | grep -E '^PEER|Error' | tee -a $OUT/peer.txt"
  done
done
echo "== Dialect distil bf16, batch 64, 1 epoch (how much of a step is fixed overhead)"
timeout 100 $D train /tmp/tt_train.csv --model /tmp/distil --device cuda --precision bf16 \
  --batch-size 64 --epochs 1 --out /tmp/m_b64 --json > $OUT/d_distil_b64.jsonl 2>&1
python3 bench/gpu/summarize.py $OUT/d_distil_b64.jsonl
echo "== accuracy: MiniLM, 3 epochs, lr 1e-4, f32 vs bf16 (held-out 20%)"
for prec in f32 bf16; do
  timeout 120 $D train /tmp/tt_train.csv --model .gpu/minilm --device cuda --precision $prec \
    --lr 1e-4 --out /tmp/q_$prec --json > $OUT/q_$prec.jsonl 2>&1
  python3 bench/gpu/summarize.py $OUT/q_$prec.jsonl
  echo "HELDOUT $prec $(timeout 60 $D eval /tmp/q_$prec /tmp/tt_test.csv --device cuda | head -1)"
done
echo "== out of memory: whole set as one batch at 512 tokens, f32"
timeout 120 $D train /tmp/tt_train.csv --model /tmp/distil --device cuda --precision f32 \
  --batch-size 4096 --max-length 512 --epochs 1 --out /tmp/oom; echo "rc=$?"
