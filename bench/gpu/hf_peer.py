"""Peer: transformers Trainer, the classic recipe (lr 2e-5, batch 16, wd 0.01, fp32,
dynamic padding, max length 128), 1 epoch on the same data and model, on the GPU."""
import csv, sys, time, torch
from transformers import (AutoTokenizer, AutoModelForSequenceClassification, Trainer,
                          TrainingArguments, DataCollatorWithPadding)
model_dir, train_csv, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(train_csv)))
labels = sorted({r['label'] for r in rows})
tok = AutoTokenizer.from_pretrained(model_dir)
class DS(torch.utils.data.Dataset):
    def __init__(s, rows): s.enc = [tok(r['text'], truncation=True, max_length=128) for r in rows]; s.y = [labels.index(r['label']) for r in rows]
    def __len__(s): return len(s.y)
    def __getitem__(s, i): d = dict(s.enc[i]); d['labels'] = s.y[i]; return d
ds = DS(rows)
model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels))
args = TrainingArguments(output_dir='/tmp/peer', learning_rate=2e-5, per_device_train_batch_size=16,
                         num_train_epochs=epochs, weight_decay=0.01, save_strategy='no', report_to=[],
                         logging_steps=50, disable_tqdm=True, dataloader_num_workers=0)
tr = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok))
t = time.time(); out = tr.train(); torch.cuda.synchronize(); dt = time.time() - t
print(f"PEER transformers {__import__('transformers').__version__} torch {torch.__version__}: {epochs} epoch(s) {len(ds)} rows in {dt:.1f}s = {len(ds)*epochs/dt:.1f} samples/s, loss {out.training_loss:.4f}")
