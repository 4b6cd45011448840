"""Peer for model quality: transformers Trainer, the classic recipe (AdamW wd 0.01,
linear decay, batch 16, evaluate each epoch, keep best by accuracy), same base model
and data as Dialect; prints held-out accuracy."""
import csv, sys, time, numpy as np, torch
from transformers import (AutoTokenizer, AutoModelForSequenceClassification, Trainer,
                          TrainingArguments, DataCollatorWithPadding, set_seed)
model_dir, lr, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
read = lambda p: list(csv.DictReader(open(p)))
tr, va, te = read('/tmp/q_train.csv'), read('/tmp/q_val.csv'), read('/tmp/tt_test.csv')
labels = sorted({r['label'] for r in tr})
tok = AutoTokenizer.from_pretrained(model_dir)
class DS(torch.utils.data.Dataset):
    def __init__(s, rows): s.enc = [tok(r['text'], truncation=True, max_length=128) for r in rows]; s.y = [labels.index(r['label']) for r in rows]
    def __len__(s): return len(s.y)
    def __getitem__(s, i): d = dict(s.enc[i]); d['labels'] = s.y[i]; return d
set_seed(seed)
model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels), dtype=torch.float32)
acc = lambda p: {'accuracy': float((np.argmax(p.predictions, -1) == p.label_ids).mean())}
args = TrainingArguments(output_dir='/tmp/peerq', learning_rate=lr, per_device_train_batch_size=16,
    per_device_eval_batch_size=64, num_train_epochs=3, weight_decay=0.01, eval_strategy='epoch',
    save_strategy='epoch', load_best_model_at_end=True, metric_for_best_model='accuracy',
    save_total_limit=1, report_to=[], disable_tqdm=True, seed=seed, logging_strategy='no')
t = Trainer(model=model, args=args, train_dataset=DS(tr), eval_dataset=DS(va),
            data_collator=DataCollatorWithPadding(tok), compute_metrics=acc)
t0 = time.time(); t.train(); dt = time.time() - t0
r = t.evaluate(DS(te))
print(f"PEER lr {lr} seed {seed}: held-out accuracy {r['eval_accuracy']:.4f} ({len(te)} rows), train+eval {dt:.1f}s")
