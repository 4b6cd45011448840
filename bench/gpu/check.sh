#!/usr/bin/env bash
# One-shot GPU check of the Dialect engine (CUDA build): real MiniLM fine-tune, a
# DistilBERT-base-shaped run, and the transformers Trainer peer on the same data.
set -u
export PYTHONUNBUFFERED=1
. .gpu/env-on-gpu.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
gunzip -c .gpu/dialect.gz > /tmp/dialect && chmod +x /tmp/dialect
python3 bench/gpu/prep.py 2>&1 | grep -v Warn
D=/tmp/dialect
echo "== MiniLM (f16 weights loaded as f32), 3 epochs, lr 1e-4, CUDA"
timeout 200 $D train /tmp/tt_train.csv --model .gpu/minilm --device cuda --lr 1e-4 --out /tmp/m1 --json > $OUT/minilm.jsonl 2> $OUT/minilm.err; echo rc=$?
tail -3 $OUT/minilm.err
python3 bench/gpu/summarize.py $OUT/minilm.jsonl
timeout 60 $D eval /tmp/m1 /tmp/tt_test.csv --device cuda | head -3
timeout 60 $D eval /tmp/m1 /tmp/tt_test.csv --device cpu | head -1
echo "== DistilBERT-base-shaped (random init), 1 epoch recipe, CUDA"
timeout 150 $D train /tmp/tt_train.csv --model /tmp/distil --device cuda --epochs 1 --out /tmp/m2 --json > $OUT/distil.jsonl 2> $OUT/distil.err; echo rc=$?
tail -3 $OUT/distil.err
python3 bench/gpu/summarize.py $OUT/distil.jsonl
echo "== peer: transformers Trainer, same model and data, 1 epoch"
timeout 120 python3 bench/gpu/hf_peer.py /tmp/distil /tmp/tt_train.csv 1 2>&1 | grep -E "PEER|Error|error" | head -5
nvidia-smi --query-gpu=memory.used --format=csv,noheader
