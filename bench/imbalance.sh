#!/usr/bin/env bash
# Imbalanced queues: does weighing the classes (or balancing the batches) help when a
# few classes are big and most are small? A long-tailed subset of Banking77: the 77
# intents' training sizes decay exponentially from HEAD to TAIL rows (which intent gets
# which size is drawn per seed, as are its rows), scored on a balanced held-out set of
# VAL tickets per intent (the same rows for every seed and setting, never trained on).
# all-MiniLM-L6-v2 on the CPU, max length 64, best model by macro-F1 everywhere.
# The instant baseline runs with class weights none / inverse / effective on every seed
# of SEEDS; a fine-tune (FT_EPOCHS epochs, lr FT_LR, batch 16) runs each of FT_CONFIGS
# (none, inverse, effective: class weights; balanced: the balanced sampler) on the seeds
# of FT_SEEDS. Prints accuracy, macro-F1 and the tail's macro-F1 (intents with ≤ 10
# training rows) per run, then a Markdown table of the means. ~20 minutes on 2 cores.
#   THREADS=2 SEEDS="1 2 3" FT_SEEDS=1 FT_CONFIGS="none effective balanced" bench/imbalance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
THREADS=${THREADS:-2}
SEEDS=${SEEDS:-1 2 3}
FT_SEEDS=${FT_SEEDS:-1}
FT_CONFIGS=${FT_CONFIGS:-none effective balanced}
FT_EPOCHS=${FT_EPOCHS:-3}
FT_LR=${FT_LR:-1e-4}
HEAD=${HEAD:-100}
TAIL=${TAIL:-2}
VAL=${VAL:-15}
DATA=${DATA:-../shared/data/banking77_train.csv}
MODEL=sentence-transformers/all-MiniLM-L6-v2
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-rel ]; then
  export CARGO_TARGET_DIR=/work/target-rel
fi
work=$(mktemp -d)
# Runs the harness makes stay in its scratch folder, not the user's run store.
export DIALECT_HOME="$work/home"
trap 'rm -rf "$work"' EXIT

scripts/seed-model-cache.sh >/dev/null
source bench/machine.sh
cargo build --release --quiet -p dialect-cli
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

# The held-out set (VAL per intent, seed 0) and one long-tailed training set per seed.
python3 - "$DATA" "$work" "$HEAD" "$TAIL" "$VAL" $SEEDS $FT_SEEDS <<'PY'
import csv, json, random, sys
data, work, head, tail, val = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
seeds = sorted({int(s) for s in sys.argv[6:]})
by = {}
for r in csv.DictReader(open(data, encoding='utf-8')):
    by.setdefault(r['label'], []).append(r['text'])
labels = sorted(by)
held = random.Random(0)
pool, validation = {}, []
for label in labels:
    texts = by[label][:]
    held.shuffle(texts)
    validation += [(t, label) for t in texts[:val]]
    pool[label] = texts[val:]
def write(path, rows):
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f); w.writerow(['text', 'label']); w.writerows(rows)
write(f'{work}/val.csv', validation)
k = len(labels)
sizes = [round(head * (tail / head) ** (i / (k - 1))) for i in range(k)]
for seed in seeds:
    rng = random.Random(seed)
    order = labels[:]
    rng.shuffle(order)
    # Largest size first, each to the first intent (in the seed's order) with rows for it.
    given = {}
    for size in sizes:
        label = next(l for l in order if l not in given and len(pool[l]) >= size)
        given[label] = size
    rows = []
    for label, size in given.items():
        rows += [(t, label) for t in rng.sample(pool[label], size)]
    rng.shuffle(rows)
    write(f'{work}/train_{seed}.csv', rows)
    json.dump(given, open(f'{work}/sizes_{seed}.json', 'w'))
print(f"{len(validation)} held-out tickets ({val} per intent); training sets of {sum(sizes)} tickets, "
      f"{sizes[0]} down to {sizes[-1]} per intent ({sum(s <= 10 for s in sizes)} intents with ≤ 10)")
PY

load() { cut -d' ' -f1 /proc/loadavg; }
cat >"$work/show.py" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')][-1]['summary']
m = s['epochs'][s['bestEpoch'] - 1]['metrics']
print(f"accuracy {m['accuracy']:.4f}, macro-F1 {m['macroF1']:.4f}")
PY
# run NAME SEED OPTIONS... → $work/NAME.out (events), NAME.meta (seed, wall ms, load before/after)
run() {
  local name=$1 seed=$2; shift 2
  local before start
  before=$(load); start=$(date +%s%N)
  RAYON_NUM_THREADS=$THREADS "$target/dialect" train "$work/train_$seed.csv" --validation "$work/val.csv" \
    --model "$MODEL" --max-length 64 --device cpu --best-metric macro-f1 --seed "$seed" --json "$@" \
    >"$work/$name.out" 2>"$work/$name.err" || { echo "$name failed:"; tail -5 "$work/$name.err"; exit 1; }
  echo "$seed $(( ($(date +%s%N) - start) / 1000000 )) $before $(load)" >"$work/$name.meta"
  echo "  $name: $(python3 "$work/show.py" "$work/$name.out")"
}
echo "baseline:"
for seed in $SEEDS; do
  for weights in none inverse effective; do
    run "baseline-$weights-$seed" "$seed" --baseline --class-weights "$weights"
  done
done
echo "fine-tune:"
for seed in $FT_SEEDS; do
  for config in $FT_CONFIGS; do
    case $config in
      balanced) options=(--sampler balanced) ;;
      *) options=(--class-weights "$config") ;;
    esac
    run "finetune-$config-$seed" "$seed" --epochs "$FT_EPOCHS" --lr "$FT_LR" --batch-size 16 "${options[@]}"
  done
done

machine "$target/dialect"
python3 - "$work" "$THREADS" "$FT_EPOCHS" "$FT_LR" <<'PY'
import glob, json, os, statistics, sys
work, threads, epochs, lr = sys.argv[1:5]
runs = {}
for out in sorted(glob.glob(f'{work}/*.out')):
    name = os.path.basename(out)[:-4]
    method, config, seed = name.split('-')
    events = [json.loads(l) for l in open(out) if l.startswith('{')]
    s = next(e for e in events if e['type'] == 'finished')['summary']
    m = s['epochs'][s['bestEpoch'] - 1]['metrics']
    sizes = json.load(open(f'{work}/sizes_{seed}.json'))
    tail = [c['f1'] for c in m['perClass'] if sizes[c['label']] <= 10]
    head = [c['f1'] for c in m['perClass'] if sizes[c['label']] >= 50]
    _, wall_ms, before, after = open(f'{work}/{name}.meta').read().split()
    runs.setdefault((method, config), []).append(dict(
        seed=int(seed), acc=m['accuracy'], f1=m['macroF1'], tail=statistics.mean(tail),
        head=statistics.mean(head), epoch=s['bestEpoch'], wall=int(wall_ms) / 1000, load=f'{before}/{after}'))
print(f"\n{threads} threads; all-MiniLM-L6-v2, max length 64, best model by macro-F1; fine-tune: "
      f"{epochs} epochs, lr {lr}, batch 16. Tail: intents with ≤ 10 training rows; head: ≥ 50.\n")
print("| method | setting | seeds | accuracy | macro-F1 | tail macro-F1 | head macro-F1 | per seed (accuracy / macro-F1) | wall s (mean) | load before/after |")
print("|---|---|---|---|---|---|---|---|---|---|")
order = {'none': 0, 'inverse': 1, 'effective': 2, 'balanced': 3}
for (method, config), rs in sorted(runs.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])):
    mean = lambda k: statistics.mean(r[k] for r in rs)
    setting = 'balanced sampler' if config == 'balanced' else f'class weights {config}'
    per_seed = ', '.join(f"{r['seed']}: {r['acc']:.3f} / {r['f1']:.3f}" for r in rs)
    print(f"| {method} | {setting} | {len(rs)} | {mean('acc'):.4f} | **{mean('f1'):.4f}** | {mean('tail'):.4f} | "
          f"{mean('head'):.4f} | {per_seed} | {mean('wall'):.0f} | {', '.join(r['load'] for r in rs)} |")
PY
