"""How much length grouping un-mixes the classes of a batch, and how much padding
each batch order carries. Usage (bench/.venv has `tokenizers`):

    bench/.venv/bin/python bench/quality/batch_mix.py TRAIN_CSV [MODEL_DIR]

For random order and for grouping by length (mega-batches of 50 batches sorted by
length, as src/train/batching.rs and transformers' LengthGroupedSampler do), averaged
over 20 shuffles: the share of padded tokens that are real (token efficiency), and a
batch's label entropy relative to the class prior's (1 = batches as mixed as the data;
lower = batches of fewer classes)."""
import csv, glob, math, os, random, sys
from tokenizers import Tokenizer

path = sys.argv[1]
model = sys.argv[2] if len(sys.argv) > 2 else glob.glob(os.path.expanduser(
    '~/.cache/huggingface/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/'))[0]
tok = Tokenizer.from_file(os.path.join(model, 'tokenizer.json'))
tok.no_padding()
tok.enable_truncation(128)
rows = list(csv.DictReader(open(path, encoding='utf-8')))
lengths = [len(e.ids) for e in tok.encode_batch([r['text'] for r in rows])]
labels = [r['label'] for r in rows]
prior = [labels.count(l) / len(labels) for l in set(labels)]
prior_entropy = -sum(p * math.log(p) for p in prior)


def batches(grouped, rng, size=16, mega=50):
    order = list(range(len(rows)))
    rng.shuffle(order)
    if not grouped:
        return [order[i:i + size] for i in range(0, len(order), size)]
    out = []
    for m in range(0, len(order), size * mega):
        chunk = sorted(order[m:m + size * mega], key=lambda i: -lengths[i])
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def entropy(batch):
    counts = {}
    for i in batch:
        counts[labels[i]] = counts.get(labels[i], 0) + 1
    return -sum(c / len(batch) * math.log(c / len(batch)) for c in counts.values())


print(f'{path}: {len(rows)} rows, mean {sum(lengths) / len(lengths):.1f} tokens')
for grouped in (False, True):
    eff, mix = [], []
    for seed in range(20):
        bs = batches(grouped, random.Random(seed))
        eff.append(sum(lengths) / sum(max(lengths[i] for i in b) * len(b) for b in bs))
        mix.append(sum(entropy(b) for b in bs) / len(bs) / prior_entropy)
    print(f"  {'grouped by length' if grouped else 'random order':18}  token efficiency {sum(eff) / 20:.3f}"
          f"  batch label entropy / prior {sum(mix) / 20:.3f}")
