"""Summarise bench/.quality/results.jsonl as Markdown tables.

Usage: summarize.py RESULTS SIZE

Per set and side (the Trainer, each Dialect batch order): seeds, test accuracy and
macro-F1 as mean ± sample sd, their range over seeds, and each Dialect variant's
difference to the Trainer: difference of means with a 95% interval (Welch), and the
mean ± sd of the per-seed differences (same seed number on both sides; the seeds do
not share random streams, so this pairs runs, not draws)."""
import json, math, statistics as st, sys
from collections import defaultdict

path, size = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip()]
rows = [r for r in rows if r['key'].startswith(size + '/')]
by = defaultdict(dict)
for r in rows:
    by[(r['set'], r['side'])][r['seed']] = r

# Two-sided 97.5% quantiles of Student's t for small degrees of freedom.
T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
        10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04}


def t975(df):
    return T975[min(T975, key=lambda k: abs(k - df))] if df < 30 else 1.96


def mean_sd(xs):
    return st.mean(xs), (st.stdev(xs) if len(xs) > 1 else float('nan'))


def pts(x):
    return f'{100 * x:.1f}'


def welch(a, b):
    """Mean of a minus mean of b, and the half-width of its 95% interval."""
    ma, mb = st.mean(a), st.mean(b)
    if len(a) < 2 or len(b) < 2:
        return ma - mb, float('nan')
    va, vb = st.variance(a) / len(a), st.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return ma - mb, 0.0
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return ma - mb, t975(df) * se


for set_ in sorted({s for s, _ in by}):
    sides = sorted((side for s, side in by if s == set_), key=lambda x: (x != 'trainer', x))
    print(f'\n#### {set_} ({size})\n')
    print('| side | seeds | test accuracy, mean ± sd | range | test macro-F1, mean ± sd | range | s per run |')
    print('|---|---|---|---|---|---|---|')
    for side in sides:
        runs = by[(set_, side)]
        acc = [r['test_accuracy'] for r in runs.values()]
        f1 = [r['test_macro_f1'] for r in runs.values()]
        secs = st.mean(r['seconds'] for r in runs.values())
        (ma, sa), (mf, sf) = mean_sd(acc), mean_sd(f1)
        print(f'| {side} | {len(runs)} | {pts(ma)} ± {pts(sa)} | {pts(min(acc))}–{pts(max(acc))} '
              f'| {pts(mf)} ± {pts(sf)} | {pts(min(f1))}–{pts(max(f1))} | {secs:.0f} |')
    trainer = by.get((set_, 'trainer'))
    if not trainer:
        continue
    print('\n| Dialect variant − Trainer | accuracy: Δ mean [95% CI] | per-seed Δ, mean ± sd | macro-F1: Δ mean [95% CI] | per-seed Δ, mean ± sd |')
    print('|---|---|---|---|---|')
    for side in sides:
        if side == 'trainer':
            continue
        runs = by[(set_, side)]
        cells = []
        for metric in ('test_accuracy', 'test_macro_f1'):
            d, half = welch([r[metric] for r in runs.values()], [r[metric] for r in trainer.values()])
            paired = [runs[s][metric] - trainer[s][metric] for s in runs if s in trainer]
            pm, ps = mean_sd(paired) if paired else (float('nan'), float('nan'))
            cells += [f'{pts(d)} [{pts(d - half)}, {pts(d + half)}]', f'{pts(pm)} ± {pts(ps)} (n={len(paired)})']
        print(f'| {side} | ' + ' | '.join(cells) + ' |')
int8 = [r for r in rows if 'int8_test_accuracy' in r]
if int8:
    print('\n#### int8 prediction against f32, same Dialect models, test set\n')
    print('| set | models | f32 accuracy | int8 accuracy | Δ accuracy, mean [min, max] | Δ macro-F1, mean [min, max] | same class as f32 |')
    print('|---|---|---|---|---|---|---|')
    for set_ in sorted({r['set'] for r in int8}):
        rs = [r for r in int8 if r['set'] == set_]
        da = [r['int8_test_accuracy'] - r['test_accuracy'] for r in rs]
        df = [r['int8_test_macro_f1'] - r['test_macro_f1'] for r in rs]
        (fa, fs), (ia, is_) = mean_sd([r['test_accuracy'] for r in rs]), mean_sd([r['int8_test_accuracy'] for r in rs])
        agree = st.mean(r['int8_agreement'] for r in rs)
        print(f'| {set_} | {len(rs)} | {pts(fa)} ± {pts(fs)} | {pts(ia)} ± {pts(is_)} '
              f'| {pts(st.mean(da))} [{pts(min(da))}, {pts(max(da))}] '
              f'| {pts(st.mean(df))} [{pts(min(df))}, {pts(max(df))}] | {100 * agree:.2f}% |')
print('\nFigures in accuracy points (×100); sd is the sample standard deviation over seeds.')
