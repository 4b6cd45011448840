#!/usr/bin/env bash
# The language check (src/dataset/language.rs, examples/bench_language.rs): the time of
# one report (sample, language detection, vocabulary fit with the model's tokenizer) on
# both ../shared/data files and a generated 10,000-row German file, best of 5, with
# what it finds. Prints a table; the full JSON goes to $OUT.
#   DATA=../shared/data MODEL=sentence-transformers/all-MiniLM-L6-v2 OUT=/tmp/lang.json bench/language.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
DATA=${DATA:-../shared/data}
MODEL=${MODEL:-sentence-transformers/all-MiniLM-L6-v2}
OUT=${OUT:-$(mktemp --suffix=.json)}
target=${CARGO_TARGET_DIR:-target}

CARGO_TARGET_DIR="$target" cargo build --release --quiet --example bench_language
"$target/release/examples/bench_language" "$DATA" "$MODEL" >"$OUT"

python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"model {r['model']}, best of {r['runs']}, {r['threads']} threads; CPU: {r['cpu']}")
for x in r["results"]:
    rep, v = x["report"], x["report"]["vocabulary"]
    langs = ", ".join(f"{l['name']} {100 * l['share']:.1f}%" for l in rep["languages"])
    print(f"{x['data']}: {x['rows']} rows, {rep['rowsSampled']} sampled, {x['seconds'] * 1000:.0f} ms")
    print(f"  languages: {langs}; {rep['undetermined']} undetermined")
    print(f"  unknown tokens {100 * v['unknownShare']:.2f}%, {v['piecesPerWord']:.2f} pieces/word, "
          f"{100 * v['splitShare']:.1f}% in 3+ pieces: {v['verdict']}")
    print(f"  advice: {(rep['advice'] or {}).get('message', '-')}")
print(f"JSON: {sys.argv[1]}")
PY
