#!/usr/bin/env bash
# `dialect serve` under load, on 127.0.0.1 only: a short fine-tune of all-MiniLM-L6-v2
# (the speed does not depend on how well it learnt), served by the release CLI, and
# bench/serve_load.py (threads + http.client, one keep-alive connection a client, one
# Ticket Tagger text a request, bounded in time and count) at 1, 8 and 64 clients:
# requests/s answered, p50/p99 latency, and the server's RSS; 8 and 64 again with
# --max-batch 1, so that no requests are batched together. Then overload: 64
# clients against --max-concurrent 1 --max-queue 4, retrying 503s at once; the server
# must keep answering (healthz), its memory must stay flat, and SIGTERM must stop it.
# MODEL=FOLDER serves that model instead of fine-tuning one.
#   SECONDS_PER_RUN=20 DATA=../shared/data/tickettagger_issues_train.csv bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
DATA=${DATA:-../shared/data/tickettagger_issues_train.csv}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
work=$(mktemp -d)
export DIALECT_HOME="$work/home"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

source bench/machine.sh
cargo build --release --quiet -p dialect-cli
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
echo "$(machine "$target/dialect")"

model=${MODEL:-$work/model}
if [ -z "${MODEL:-}" ]; then
  "$target/dialect" train "$DATA" --model sentence-transformers/all-MiniLM-L6-v2 \
    --max-rows 200 --epochs 1 --max-length 128 --lr 1e-4 --device cpu \
    --out "$model" --json >/dev/null
fi
python3 - "$DATA" >"$work/texts.txt" <<'PY'
import csv, sys
for i, row in enumerate(csv.DictReader(open(sys.argv[1], encoding="utf-8"))):
    if i == 2000:
        break
    print(" ".join(row["text"].split()))
PY
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr="127.0.0.1:$port"

# Start the server with extra options; wait until /healthz answers.
start() {
  "$target/dialect" serve "$model" --bind "$addr" --device cpu "$@" 2>"$work/serve.log" &
  server=$!
  python3 - "$addr" <<'PY'
import http.client, sys, time
host, port = sys.argv[1].split(":")
for _ in range(600):
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=2)
        c.request("GET", "/healthz")
        if c.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the server did not start")
PY
}
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MiB  ", $1, $2 / 1024}' "/proc/$server/status"; echo; }
stop() {
  kill -TERM "$server"
  local rc=0
  wait "$server" || rc=$?
  echo "SIGTERM: exit code $rc; $(tail -1 "$work/serve.log")"
  server=""
}
healthz() { python3 -c "import http.client,sys; c=http.client.HTTPConnection('127.0.0.1', $port, timeout=5); c.request('GET','/healthz'); print('healthz after:', c.getresponse().status)"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# A queue of 64, so that 64 clients measure latency and throughput, not refusals.
start --max-queue 64
python3 bench/serve_load.py "$addr" "$work/texts.txt" 1 3 >/dev/null   # warm-up
echo "served ($(grep -o 'f32\|int8' "$work/serve.log" | head -1)); RSS warm: $(rss)"
for clients in 1 8 64; do
  python3 bench/serve_load.py "$addr" "$work/texts.txt" "$clients" "$SECONDS_PER_RUN"
  echo "  RSS: $(rss)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
stop

# The same without batching requests together: --max-batch 1 (one text a request here).
echo "unbatched: --max-batch 1"
start --max-queue 64 --max-batch 1
python3 bench/serve_load.py "$addr" "$work/texts.txt" 1 3 >/dev/null   # warm-up
for clients in 8 64; do
  python3 bench/serve_load.py "$addr" "$work/texts.txt" "$clients" "$SECONDS_PER_RUN"
  echo "  RSS: $(rss)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
stop

echo "overload: --max-concurrent 1 --max-queue 4, 64 clients"
start --max-concurrent 1 --max-queue 4
echo "  RSS before: $(rss)"
for round in 1 2 3; do
  python3 bench/serve_load.py "$addr" "$work/texts.txt" 64 "$SECONDS_PER_RUN" 200000
  echo "  RSS after round $round: $(rss)"
done
healthz
stop
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
