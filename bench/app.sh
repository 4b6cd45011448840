#!/usr/bin/env bash
# The desktop app: cold start to first paint, and idle memory. Launches the release app
# (UI embedded, as scripts/run.sh builds it) RUNS times on an X display (Xvfb when
# there is none), each time with an empty runs folder. Start-up is the time from
# launching the process to the UI's first frame on screen (the UI reports it after two
# animation frames; the app logs it, see `ui_ready`). The first launch follows a drop
# of the page cache when this user may do that (root), so it is a true cold start; the
# others are warm. IDLE_S seconds after the first frame, memory is read from /proc: the
# app process's RSS, and the PSS of the app with its WebKit helper processes (PSS
# shares each library page among the processes mapping it, so the total is not
# inflated by counting one page several times).
#   RUNS=5 IDLE_S=5 bench/app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
RUNS=${RUNS:-5}
IDLE_S=${IDLE_S:-5}
work=$(mktemp -d)
xvfb_pid=
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

npm --prefix ui run build >/dev/null
cargo build --release --quiet -p dialect-app --features custom-protocol
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
app="$target/dialect-app"

if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=:97
  Xvfb "$DISPLAY" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  sleep 1
fi

# The process and all its descendants.
tree() {
  local pid=$1
  echo "$pid"
  for child in $(pgrep -P "$pid" || true); do tree "$child"; done
}
kb() { awk -v key="$1:" '$1 == key { print $2 }' "$2" 2>/dev/null || echo 0; }

for i in $(seq 1 "$RUNS"); do
  kind=warm
  if [ "$i" = 1 ] && sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then kind=cold; fi
  home="$work/home$i"
  mkdir -p "$home"
  start=$(date +%s.%N)
  HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" \
    XDG_CACHE_HOME="$home/cache" HF_HOME="${HF_HOME:-$HOME/.cache/huggingface}" \
    "$app" 2>"$work/app$i.err" >/dev/null &
  pid=$!
  painted=
  for _ in $(seq 1 600); do
    painted=$(sed -n 's/^dialect-app: first frame on screen at //p' "$work/app$i.err")
    [ -n "$painted" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$painted" ]; then
    echo "launch $i: no first frame within 60 s"; tail -5 "$work/app$i.err"; kill "$pid" 2>/dev/null; exit 1
  fi
  sleep "$IDLE_S"
  rss=$(kb VmRSS "/proc/$pid/status")
  pss=0
  for p in $(tree "$pid"); do pss=$((pss + $(kb Pss "/proc/$p/smaps_rollup"))); done
  procs=$(tree "$pid" | wc -l)
  for p in $(tree "$pid" | tac); do kill "$p" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
  echo "$kind $start $painted $rss $pss $procs" >>"$work/results"
done

python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ms = lambda r: (float(r[2]) - float(r[1])) * 1000
print(f"app start-up and idle memory, {len(rows)} launches, X display, release build")
for n, r in enumerate(rows, 1):
    print(f"  launch {n} ({r[0]}): first paint {ms(r):7.0f} ms, idle RSS {int(r[3]) / 1024:6.1f} MB, "
          f"idle PSS {int(r[4]) / 1024:6.1f} MB over {r[5]} processes")
warm = [r for r in rows if r[0] == 'warm']
if rows[0][0] == 'cold':
    print(f"cold start to first paint: {ms(rows[0]):.0f} ms")
if warm:
    print(f"warm start to first paint, median: {statistics.median(ms(r) for r in warm):.0f} ms")
print(f"idle RSS of the app process, median: {statistics.median(int(r[3]) for r in rows) / 1024:.1f} MB")
print(f"idle PSS with its WebKit processes, median: {statistics.median(int(r[4]) for r in rows) / 1024:.1f} MB")
PY
