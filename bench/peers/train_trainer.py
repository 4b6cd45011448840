"""Peer for the training benchmark: transformers' Trainer, the seed recipe (lr 2e-5,
batch 16, weight decay 0.01, evaluate each epoch, keep the best model by accuracy) on
CPU, with padding to max_length 128 (as the seed script) or dynamic padding.
Usage: train_trainer.py MODEL_DIR TRAIN_CSV VAL_CSV EPOCHS THREADS max_length|dynamic
                        [--seed N] [--test TEST_CSV] [--group-by-length]
Prints one JSON line: training samples/s (epochs only, evaluation excluded), validation
accuracy and macro-F1 of the best epoch, each epoch's validation accuracy, and with
--test the best model's accuracy and macro-F1 on the test file (never used for
selection). Wall time and peak RSS are measured from outside."""
import argparse, csv, json, time
import numpy as np, torch
from transformers import (AutoTokenizer, AutoModelForSequenceClassification, Trainer,
                          TrainingArguments, DataCollatorWithPadding, TrainerCallback, set_seed)

cli = argparse.ArgumentParser()
for name in ('model_dir', 'train_csv', 'val_csv'):
    cli.add_argument(name)
cli.add_argument('epochs', type=int)
cli.add_argument('threads', type=int)
cli.add_argument('padding', choices=['max_length', 'dynamic'])
cli.add_argument('--seed', type=int, default=42)
cli.add_argument('--test')
cli.add_argument('--group-by-length', action='store_true')
a = cli.parse_args()
model_dir, train_csv, val_csv, epochs, padding = a.model_dir, a.train_csv, a.val_csv, a.epochs, a.padding
torch.set_num_threads(a.threads)
read = lambda p: list(csv.DictReader(open(p, encoding='utf-8')))
train_rows, val_rows = read(train_csv), read(val_csv)
labels = sorted({r['label'] for r in train_rows})
tok = AutoTokenizer.from_pretrained(model_dir)


class Rows(torch.utils.data.Dataset):
    def __init__(self, rows):
        pad = {'padding': 'max_length'} if padding == 'max_length' else {}
        self.enc = [tok(r['text'], truncation=True, max_length=128, **pad) for r in rows]
        self.y = [labels.index(r['label']) for r in rows]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {**self.enc[i], 'labels': self.y[i]}


def metrics(p):
    pred, truth = np.argmax(p.predictions, -1), p.label_ids
    f1s = []
    for c in range(len(labels)):
        tp = np.sum((pred == c) & (truth == c))
        fp, fn = np.sum((pred == c) & (truth != c)), np.sum((pred != c) & (truth == c))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {'accuracy': float((pred == truth).mean()), 'macro_f1': float(np.mean(f1s))}


class EpochClock(TrainerCallback):
    """Training time per epoch (the Trainer evaluates after on_epoch_end), and each
    evaluation's accuracy."""
    def __init__(self):
        self.seconds, self.start, self.accuracy = [], 0.0, []

    def on_epoch_begin(self, *a, **k):
        self.start = time.time()

    def on_epoch_end(self, *a, **k):
        self.seconds.append(time.time() - self.start)

    def on_evaluate(self, args, state, control, metrics=None, **k):
        if metrics and 'eval_accuracy' in metrics:
            self.accuracy.append(round(metrics['eval_accuracy'], 4))


set_seed(a.seed)
clock = EpochClock()
model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels))
args = TrainingArguments(
    output_dir='/tmp/dialect-bench-peer', learning_rate=2e-5, per_device_train_batch_size=16,
    per_device_eval_batch_size=64, num_train_epochs=epochs, weight_decay=0.01,
    eval_strategy='epoch', save_strategy='epoch', load_best_model_at_end=True,
    metric_for_best_model='accuracy', save_total_limit=1, report_to=[], disable_tqdm=True,
    logging_strategy='no', use_cpu=True, dataloader_num_workers=0, seed=a.seed,
    train_sampling_strategy="group_by_length" if a.group_by_length else "random")
trainer = Trainer(model=model, args=args, train_dataset=Rows(train_rows),
                  eval_dataset=Rows(val_rows), data_collator=DataCollatorWithPadding(tok),
                  compute_metrics=metrics, callbacks=[clock])
trainer.train()
epoch_accuracy = clock.accuracy[:]
best = trainer.evaluate()
out = {
    'padding': padding, 'rows': len(train_rows), 'epochs': epochs, 'seed': a.seed,
    'samples_per_second': round(len(train_rows) * epochs / sum(clock.seconds), 2),
    'accuracy': round(best['eval_accuracy'], 4), 'macro_f1': round(best['eval_macro_f1'], 4),
    'epoch_accuracy': epoch_accuracy}
if a.test:
    test = trainer.evaluate(Rows(read(a.test)), metric_key_prefix='test')
    out['test_accuracy'] = round(test['test_accuracy'], 4)
    out['test_macro_f1'] = round(test['test_macro_f1'], 4)
print(json.dumps(out))
