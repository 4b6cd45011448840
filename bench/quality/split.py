"""Train/validation/test splits for the quality harness, made once and saved.

Usage: split.py SHARED_DIR OUT_DIR SIZE   (SIZE: "full" or "cpu")

Each set is split per class with a fixed seed: 20% test, 10% validation, the rest
training. The test part is never used for selection: both sides pick their best epoch
on the validation part. SIZE "cpu" then takes a stratified, seeded subsample of each
part so that a run fits the CPU budget (see bench/quality.sh). The files are written
once; an existing file is kept, so every run of the harness scores the same rows.
Prints each file's rows and SHA-256."""
import csv, hashlib, os, random, sys

shared, out, size = sys.argv[1], sys.argv[2], sys.argv[3]
# Rows per part for SIZE "cpu" (training, validation, test), per set.
CPU_ROWS = {'tickettagger': (600, 150, 450), 'banking77': (1540, 385, 770)}
SOURCES = {'tickettagger': 'tickettagger_issues_train.csv', 'banking77': 'banking77_train.csv'}


def stratified(rows, n, rng):
    """About n rows, each class keeping its share (at least one row per class)."""
    by = {}
    for r in rows:
        by.setdefault(r['label'], []).append(r)
    picked = []
    for label in sorted(by):
        rs = by[label][:]
        rng.shuffle(rs)
        picked += rs[:max(1, round(len(rs) * n / len(rows)))]
    rng.shuffle(picked)
    return picked


def split(rows, rng):
    by = {}
    for r in rows:
        by.setdefault(r['label'], []).append(r)
    parts = {'train': [], 'val': [], 'test': []}
    for label in sorted(by):
        rs = by[label][:]
        rng.shuffle(rs)
        n_test = round(len(rs) * 0.2)
        n_val = round(len(rs) * 0.1)
        parts['test'] += rs[:n_test]
        parts['val'] += rs[n_test:n_test + n_val]
        parts['train'] += rs[n_test + n_val:]
    for part in parts.values():
        rng.shuffle(part)
    return parts


os.makedirs(out, exist_ok=True)
for name, source in SOURCES.items():
    paths = {p: os.path.join(out, f'{name}_{size}_{p}.csv') for p in ('train', 'val', 'test')}
    if not all(os.path.exists(p) for p in paths.values()):
        with open(os.path.join(shared, source), encoding='utf-8', newline='') as f:
            rows = [{'text': r['text'], 'label': r['label']} for r in csv.DictReader(f)]
        rng = random.Random(2026)
        parts = split(rows, rng)
        if size == 'cpu':
            for part, n in zip(('train', 'val', 'test'), CPU_ROWS[name]):
                parts[part] = stratified(parts[part], n, rng)
        for part, path in paths.items():
            with open(path, 'w', encoding='utf-8', newline='') as f:
                w = csv.DictWriter(f, fieldnames=['text', 'label'])
                w.writeheader()
                w.writerows(parts[part])
    for part, path in paths.items():
        with open(path, 'rb') as f:
            data = f.read()
        rows = sum(1 for _ in csv.DictReader(open(path, encoding='utf-8', newline='')))
        print(f'{os.path.basename(path)}\t{rows}\t{hashlib.sha256(data).hexdigest()[:16]}')
