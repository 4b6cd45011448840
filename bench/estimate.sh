#!/usr/bin/env bash
# Estimate against actual: for runs of clearly different sizes on the CPU with
# all-MiniLM-L6-v2 (both ../shared/data sets), `dialect train --estimate` first, then
# the same `dialect train` for real, timed from outside (wall seconds of the process)
# and by the run itself (its summary's seconds). Each run is estimated twice: with the
# home's kept measurements (estimates.json, shared by the runs: reused where a kept
# measurement timed steps like the run's, measured and added otherwise) and from a
# fresh measurement on its own data (a home of its own). Prints a Markdown table with
# the errors, the estimated peak memory against the process's peak RSS, and the load
# average before and after each run (the machine may be shared). ~10 minutes on 2 cores.
#   THREADS=2 DATA_DIR=../shared/data bench/estimate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" HF_HUB_OFFLINE=1
THREADS=${THREADS:-2}
DATA_DIR=${DATA_DIR:-../shared/data}
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-rel ]; then
  export CARGO_TARGET_DIR=/work/target-rel
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet -p dialect-cli
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
source bench/machine.sh
machine "$target/dialect"

RAYON_NUM_THREADS=$THREADS python3 - "$target/dialect" "$DATA_DIR" "$work" "$THREADS" <<'PY'
import json, os, subprocess, sys, time
dialect, data, work, threads = sys.argv[1:5]
model = 'sentence-transformers/all-MiniLM-L6-v2'
tt, b77 = f'{data}/tickettagger_issues_train.csv', f'{data}/banking77_train.csv'
runs = [
    ('Banking77, 600 rows, 1 epoch, length 64', b77,
     ['--max-rows', '600', '--epochs', '1', '--max-length', '64']),
    ('Ticket Tagger, 1,000 rows, 1 epoch, length 128', tt,
     ['--max-rows', '1000', '--epochs', '1', '--max-length', '128']),
    ('Ticket Tagger, 2,000 rows, 2 epochs, length 128', tt,
     ['--max-rows', '2000', '--epochs', '2', '--max-length', '128']),
    ('Banking77, all rows, baseline', b77, ['--baseline']),
]

def load():
    return open('/proc/loadavg').read().split()[0]

def cli(home, args):
    """stdout, wall seconds and peak RSS (bytes) of `dialect train ARGS`."""
    env = dict(os.environ, DIALECT_HOME=home)
    rss = f'{work}/rss'
    start = time.monotonic()
    out = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', rss, dialect, 'train', *args],
                         env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"dialect train {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return out.stdout, wall, int(open(rss).read().split()[-1]) * 1024

rows = []
for i, (name, path, options) in enumerate(runs):
    args = [path, '--model', model, '--device', 'cpu', '--json', *options]
    kept = json.loads(cli(f'{work}/home', args + ['--estimate'])[0])['estimate']
    fresh = json.loads(cli(f'{work}/fresh-{i}', args + ['--estimate'])[0])['estimate']
    before = load()
    events, wall, rss = cli(f'{work}/home', args)
    after = load()
    events = [json.loads(l) for l in events.splitlines() if l.startswith('{')]
    summary = next(e for e in events if e['type'] == 'finished')['summary']
    rows.append(dict(name=name, kept=kept, fresh=fresh, wall=wall, own=summary['seconds'],
                     rss=rss, load=f'{before} / {after}'))
    print(json.dumps(rows[-1]), file=sys.stderr)

first = rows[0]['kept']['measurement']
print(f"\n{threads} threads; {first['device']}. 'kept': the shared cache's estimate "
      f"(reused, or measured when no kept measurement timed steps like the run's); "
      f"'fresh': measured on the run's own data.\n")
print('| run | train / validation rows | estimate, kept (s) | estimate, fresh (s) | actual wall (s) | run\'s own (s) | error kept | error fresh | peak estimated / RSS (GB) | load avg before / after |')
print('|---|---|---|---|---|---|---|---|---|---|')
for r in rows:
    k, f = r['kept'], r['fresh']
    err = lambda e: f"{100 * (e['seconds'] - r['wall']) / r['wall']:+.0f}%"
    peak = k['memory']['peakBytes']
    peak = f"{peak / 1e9:.2f}" if peak is not None else 'unknown'
    how = 'reused' if k['measurement']['reused'] else 'measured'
    print(f"| {r['name']} | {k['trainRows']} / {k['validationRows']} | {k['seconds']:.1f} ({how}) | {f['seconds']:.1f} "
          f"| {r['wall']:.1f} | {r['own']:.1f} | {err(k)} | {err(f)} | {peak} / {r['rss'] / 1e9:.2f} | {r['load']} |")
print('\nBreakdown of the kept estimates (s): reading, loading, tokenising, training, evaluation, saving, checks')
for r in rows:
    b = r['kept']['breakdown']
    parts = ', '.join(f"{b[k]:.1f}" for k in ('reading', 'loading', 'tokenising', 'training', 'evaluation', 'saving', 'checks'))
    print(f"- {r['name']}: {parts}; fresh measurement took {r['fresh']['measurement']['seconds']:.1f} s")
PY
