#!/usr/bin/env bash
# Quality parity on the GPU: Dialect vs transformers Trainer, same base model
# (all-MiniLM-L6-v2), same train/validation/test files, same recipe.
set -u
# Runs stay in a scratch store, not the user's.
export DIALECT_HOME=${DIALECT_HOME:-/tmp/dialect-home}
export PYTHONUNBUFFERED=1
. .gpu/env-on-gpu.sh
gunzip -c .gpu/dialect.gz > /tmp/dialect && chmod +x /tmp/dialect
python3 bench/gpu/prep.py 2>&1 | grep -E "^train"
python3 - <<'PY'
import csv, random
rows = list(csv.DictReader(open('/tmp/tt_train.csv'))); random.seed(1)
by = {}
for r in rows: by.setdefault(r['label'], []).append(r)
tr, va = [], []
for l, rs in sorted(by.items()):
    random.shuffle(rs); k = len(rs) // 10; va += rs[:k]; tr += rs[k:]
random.shuffle(tr)
for n, d in [('/tmp/q_train.csv', tr), ('/tmp/q_val.csv', va)]:
    w = csv.DictWriter(open(n, 'w'), fieldnames=['text', 'label']); w.writeheader(); w.writerows(d)
print('q_train', len(tr), 'q_val', len(va))
PY
for cfg in "1e-4 42" "1e-4 7" "2e-5 42"; do
  set -- $cfg
  timeout 120 /tmp/dialect train /tmp/q_train.csv --validation /tmp/q_val.csv --model .gpu/minilm \
    --device cuda --lr $1 --seed $2 --out /tmp/d_$1_$2 --json > $OUT/d_$1_$2.jsonl 2>&1
  echo "DIALECT lr $1 seed $2: rc=$? $(timeout 60 /tmp/dialect eval /tmp/d_$1_$2 /tmp/tt_test.csv --device cuda | head -1)"
  timeout 120 python3 bench/gpu/hf_quality.py .gpu/minilm $1 $2 2>&1 | grep -E "PEER|Error"
done
