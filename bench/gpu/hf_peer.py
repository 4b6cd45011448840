"""Peer: transformers Trainer, the classic recipe (lr 2e-5, batch 16, wd 0.01, dynamic
padding, max length 128) on the same model and rows as Dialect, on the GPU.
Usage: hf_peer.py MODEL_DIR TRAIN_CSV EPOCHS [--bf16] [--group-by-length]
Prints one JSON line: per-epoch training seconds and samples/s, peak GPU memory."""
import csv, json, sys, time, torch
from transformers import (AutoTokenizer, AutoModelForSequenceClassification, Trainer,
                          TrainingArguments, DataCollatorWithPadding, TrainerCallback)
model_dir, train_csv, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
bf16, grouped = '--bf16' in sys.argv, '--group-by-length' in sys.argv
rows = list(csv.DictReader(open(train_csv)))
labels = sorted({r['label'] for r in rows})
tok = AutoTokenizer.from_pretrained(model_dir)
class DS(torch.utils.data.Dataset):
    def __init__(s, rows):
        s.enc = [tok(r['text'], truncation=True, max_length=128) for r in rows]
        s.y = [labels.index(r['label']) for r in rows]
    def __len__(s): return len(s.y)
    def __getitem__(s, i): d = dict(s.enc[i]); d['labels'] = s.y[i]; return d
class EpochClock(TrainerCallback):
    def __init__(s): s.starts, s.seconds = [], []
    def on_epoch_begin(s, *a, **k): torch.cuda.synchronize(); s.starts.append(time.time())
    def on_epoch_end(s, *a, **k): torch.cuda.synchronize(); s.seconds.append(time.time() - s.starts[-1])
ds = DS(rows)
model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels))
import inspect
accepted = inspect.signature(TrainingArguments.__init__).parameters
# transformers ≤ 4.x: group_by_length=True; 5.x: train_sampling_strategy='group_by_length'.
grouping = ({} if not grouped else {'group_by_length': True} if 'group_by_length' in accepted
            else {'train_sampling_strategy': 'group_by_length'})
args = TrainingArguments(output_dir='/tmp/peer', learning_rate=2e-5, per_device_train_batch_size=16,
                         num_train_epochs=epochs, weight_decay=0.01, save_strategy='no', report_to=[],
                         logging_strategy='no', disable_tqdm=True, dataloader_num_workers=0,
                         bf16=bf16, **grouping)
clock = EpochClock()
tr = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok),
             callbacks=[clock])
torch.cuda.reset_peak_memory_stats()
t = time.time(); out = tr.train(); torch.cuda.synchronize(); dt = time.time() - t
import transformers
print('PEER ' + json.dumps({
    'transformers': transformers.__version__, 'torch': torch.__version__, 'bf16': bf16,
    'group_by_length': grouped, 'rows': len(ds), 'epochs': epochs, 'seconds': round(dt, 2),
    'epoch_seconds': [round(x, 2) for x in clock.seconds],
    'epoch_samples_per_second': [round(len(ds) / x, 1) for x in clock.seconds],
    'peak_allocated_gb': round(torch.cuda.max_memory_allocated() / 1e9, 2),
    'loss': round(out.training_loss, 4)}))
