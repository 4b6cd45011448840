"""On the GPU machine: split Ticket Tagger 80/20 (stratified, seeded) and make a
distilbert-base-uncased-shaped randomly initialised model in HF layout (bert-base
uncased vocab from MiniLM's vocab.txt, which is the same 30522-token vocab)."""
import csv, random, sys
from transformers import DistilBertConfig, DistilBertModel, BertTokenizerFast
rows = list(csv.DictReader(open('.gpu/tt.csv')))
random.seed(0)
by = {}
for r in rows: by.setdefault(r['label'], []).append(r)
tr, te = [], []
for l, rs in sorted(by.items()):
    random.shuffle(rs); k = int(len(rs) * 0.8); tr += rs[:k]; te += rs[k:]
random.shuffle(tr)
for name, d in [('/tmp/tt_train.csv', tr), ('/tmp/tt_test.csv', te)]:
    w = csv.DictWriter(open(name, 'w'), fieldnames=['text', 'label']); w.writeheader(); w.writerows(d)
print('train', len(tr), 'test', len(te))
import torch; torch.manual_seed(0)
m = DistilBertModel(DistilBertConfig())
m.save_pretrained('/tmp/distil', safe_serialization=True)
tok = BertTokenizerFast('.gpu/minilm/vocab.txt', do_lower_case=True)
tok.save_pretrained('/tmp/distil')
import shutil; shutil.copy('.gpu/minilm/vocab.txt', '/tmp/distil/vocab.txt')
print('distil params', sum(p.numel() for p in m.parameters()))
