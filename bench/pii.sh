#!/usr/bin/env bash
# Personal-data detection (src/pii.rs): precision and recall per kind on a seeded
# sample of real tickets from both ../shared/data files with planted values (about
# half the tickets get one or two, in several formats per kind), the detections in the
# original tickets (to be judged by reading them: PII_DUMP=FILE writes them all), and
# the speed of `find` over every original ticket on one thread
# (examples/bench_pii.rs). Prints a table; the full JSON goes to $OUT.
#   DATA=../shared/data PER_FILE=1000 SEED=20261201 OUT=/tmp/pii.json bench/pii.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
DATA=${DATA:-../shared/data}
PER_FILE=${PER_FILE:-1000}
SEED=${SEED:-20261201}
OUT=${OUT:-$(mktemp --suffix=.json)}
target=${CARGO_TARGET_DIR:-target}

CARGO_TARGET_DIR="$target" cargo build --release --quiet --example bench_pii
"$target/release/examples/bench_pii" "$DATA" "$PER_FILE" "$SEED" >"$OUT"

python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, o, t, m = r["sample"], r["overall"], r["throughput"], r["machine"]
pct = lambda x: "–" if x is None else f"{100 * x:.1f}"
print(f"{s['tickets']} tickets (seed {r['seed']}), {s['planted_tickets']} with "
      f"{s['planted_values']} planted values")
print(f"{'kind':10}{'planted':>9}{'found':>7}{'precision':>11}{'w/o orig.':>11}{'recall':>8}")
for kind, k in list(r["kinds"].items()) + [("all", o)]:
    print(f"{kind:10}{k['planted']:>9}{k['found']:>7}{pct(k['precision']):>11}"
          f"{pct(k['precision_planted_only']):>11}{pct(k['recall']):>8}")
print("precision counts every detection in a ticket's own text as wrong; 'w/o orig.' "
      "leaves those out")
u = r["unplanted_detections"]
print(f"detections in the {u['tickets']} original tickets (judge by reading them, "
      "PII_DUMP=FILE): " + ", ".join(f"{k} {v['spans']} in {v['tickets']} tickets"
                                      for k, v in u["kinds"].items()))
print(f"find: {t['tickets_per_s']:,.0f} tickets/s, {t['mb_per_s']:.1f} MB/s over "
      f"{t['tickets']} tickets ({t['bytes'] / 1e6:.2f} MB), one thread, best of 5; "
      f"CPU: {m['cpu']}")
print(f"JSON: {sys.argv[1]}")
PY
