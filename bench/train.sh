#!/usr/bin/env bash
# Training on the CPU, Dialect vs transformers' Trainer, same machine, one run: the
# same all-MiniLM-L6-v2, the same train/validation rows, the seed recipe (lr 2e-5,
# batch 16, weight decay 0.01, evaluate each epoch, keep the best by accuracy), the
# same thread count. The Trainer runs twice: padding to 128 (the seed script) and
# dynamic padding. Dialect's instant baseline (frozen encoder + linear head) runs on the
# same rows. Prints samples/s, wall time, peak RSS, validation accuracy and macro-F1,
# and the ratios. Dialect's fine-tune and the Trainer with dynamic padding (the pair the
# ratios compare) run ROUNDS times, alternating, and the medians are reported (a VM's
# speed drifts by ±15% within minutes); the others run once. About 15 minutes on 2 cores.
#   THREADS=2 ROUNDS=3 bench/train.sh   (TT_ROWS, B77_ROWS, EPOCHS override the subsets)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
THREADS=${THREADS:-2}
TT_ROWS=${TT_ROWS:-400}
B77_ROWS=${B77_ROWS:-800}
EPOCHS=${EPOCHS:-1}
ROUNDS=${ROUNDS:-3}
SHARED=${SHARED:-../shared/data}
MODEL=sentence-transformers/all-MiniLM-L6-v2
work=$(mktemp -d)
# Runs the harness makes stay in its scratch folder, not the user's run store.
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT

[ -x bench/.venv/bin/python ] || python3 -m venv --system-site-packages bench/.venv
bench/.venv/bin/pip install -q -r bench/requirements.txt
scripts/seed-model-cache.sh >/dev/null
source bench/machine.sh
cargo build --release --quiet -p dialect-cli
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
model_dir=$(python3 -c "import glob,os; print(glob.glob(os.path.expanduser(os.environ.get('HF_HOME','~/.cache/huggingface')+'/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/'))[0])")

# Fixed, seeded subsets: Ticket Tagger (3 classes, long texts) and the 10 largest
# Banking77 intents (short texts); 80% train / 20% validation, stratified.
python3 - "$SHARED" "$work" "$TT_ROWS" "$B77_ROWS" <<'PY'
import csv, random, sys
from collections import Counter
shared, work, tt_rows, b77_rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def split(name, rows, n):
    random.seed(0)
    by = {}
    for r in rows: by.setdefault(r['label'], []).append(r)
    train, val = [], []
    per = n // len(by)
    for label, rs in sorted(by.items()):
        random.shuffle(rs); rs = rs[:per]; k = len(rs) // 5
        val += rs[:k]; train += rs[k:]
    random.shuffle(train)
    for part, data in [('train', train), ('val', val)]:
        with open(f'{work}/{name}_{part}.csv', 'w', newline='', encoding='utf-8') as f:
            w = csv.DictWriter(f, fieldnames=['text', 'label']); w.writeheader()
            w.writerows({'text': r['text'], 'label': r['label']} for r in data)
read = lambda f: list(csv.DictReader(open(f'{shared}/{f}', encoding='utf-8', errors='replace')))
split('tt', read('tickettagger_issues_train.csv'), tt_rows)
b77 = read('banking77_train.csv')
top = {l for l, _ in Counter(r['label'] for r in b77).most_common(10)}
split('b77', [r for r in b77 if r['label'] in top], b77_rows)
PY

# run NAME COMMAND... → $work/NAME.out (stdout), NAME.time (wall s, peak RSS KB)
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" \
    || { echo "$name failed:"; tail -5 "$work/$name.err"; exit 1; }
}
for set in tt b77; do
  common=("$work/${set}_train.csv" --validation "$work/${set}_val.csv" --model "$MODEL"
          --epochs "$EPOCHS" --device cpu --json)
  trainer() {
    OMP_NUM_THREADS=$THREADS run "${set}_trainer_$1$2" bench/.venv/bin/python bench/peers/train_trainer.py \
      "$model_dir" "$work/${set}_train.csv" "$work/${set}_val.csv" "$EPOCHS" "$THREADS" "$1"
  }
  for round in $(seq "$ROUNDS"); do
    rm -rf "$work/${set}_m"
    RAYON_NUM_THREADS=$THREADS run "${set}_dialect.$round" "$target/dialect" train "${common[@]}" --out "$work/${set}_m"
    trainer dynamic ".$round"
  done
  RAYON_NUM_THREADS=$THREADS run "${set}_baseline" "$target/dialect" train "${common[@]}" --baseline --out "$work/${set}_b"
  trainer max_length ""
done

machine "$target/dialect"
python3 - "$work" "$THREADS" "$EPOCHS" "$ROUNDS" <<'PY'
import json, sys
from statistics import median
work, threads, epochs, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
repeated = ('dialect', 'trainer_dynamic')
def one_timing(name):
    wall, rss = open(f'{work}/{name}.time').read().split()[-2:]
    return float(wall), int(rss) / 1e6
def timing(name):
    if not name.endswith(repeated):
        return one_timing(name)
    runs = [one_timing(f'{name}.{r}') for r in range(1, rounds + 1)]
    return median(w for w, _ in runs), max(m for _, m in runs)
def dialect(name):
    events = [json.loads(l) for l in open(f'{work}/{name}.out') if l.startswith('{')]
    s = next(e for e in events if e['type'] == 'finished')['summary']
    best = s['epochs'][s['bestEpoch'] - 1]['metrics']
    rows = next(e for e in events if e['type'] == 'started')['trainRows']
    train_only = [r['samplesPerSecond'] for r in s['epochs']]
    return {'sps': sum(train_only) / len(train_only), 'acc': best['accuracy'], 'f1': best['macroF1'], 'rows': rows}
def trainer(name):
    r = json.loads(open(f'{work}/{name}.out').read().strip().splitlines()[-1])
    return {'sps': r['samples_per_second'], 'acc': r['accuracy'], 'f1': r['macro_f1'], 'rows': r['rows']}
def result(set, n):
    read = dialect if n in ('dialect', 'baseline') else trainer
    if n not in repeated:
        return read(f'{set}_{n}')
    runs = [read(f'{set}_{n}.{r}') for r in range(1, rounds + 1)]
    out = dict(runs[0], sps=median(r['sps'] for r in runs), all=[r['sps'] for r in runs])
    if len({(r['acc'], r['f1']) for r in runs}) > 1:
        out['note'] = 'accuracy differs between rounds: ' + ', '.join(f"{r['acc']:.4f}" for r in runs)
    return out
print(f"training, all-MiniLM-L6-v2, {epochs} epoch(s), batch 16, lr 2e-5, {threads} threads; "
      f"fine-tune and dynamic padding: medians of {rounds} alternating rounds (wall s too; peak RSS the largest)")
for set, title in [('tt', 'Ticket Tagger'), ('b77', 'Banking77, 10 intents')]:
    rows = {n: result(set, n) for n in ('dialect', 'baseline', 'trainer_max_length', 'trainer_dynamic')}
    print(f"\n{title}: {rows['dialect']['rows']} training rows")
    print(f"{'':34}{'samples/s':>10}{'wall s':>8}{'peak RSS GB':>12}{'accuracy':>9}{'macro-F1':>9}")
    for n, label in [('dialect', 'Dialect (fine-tune)'), ('trainer_max_length', 'Trainer, padding to 128'),
                     ('trainer_dynamic', 'Trainer, dynamic padding'), ('baseline', 'Dialect instant baseline')]:
        r, (wall, rss) = rows[n], timing(f'{set}_{n}')
        sps = f"{r['sps']:.2f}" if n != 'baseline' else '—'
        print(f"{label:34}{sps:>10}{wall:>8.1f}{rss:>12.2f}{r['acc']:>9.4f}{r['f1']:>9.4f}")
        if 'all' in r:
            print(f"{'':34}rounds: " + ', '.join(f'{v:.2f}' for v in r['all']) + (f"; {r['note']}" if 'note' in r else ''))
    d = rows['dialect']
    for n in ('trainer_max_length', 'trainer_dynamic'):
        t = rows[n]
        print(f"  vs {n[8:]:<11} speed {d['sps'] / t['sps']:.2f}×, peak RSS {timing(f'{set}_dialect')[1] / timing(f'{set}_{n}')[1]:.2f}×, "
              f"accuracy {100 * (d['acc'] - t['acc']):+.1f} points")
PY
