"""Multi-label quality, Dialect vs transformers' Trainer, on label sets made from
Banking77: six intents, half the tickets single, half two tickets of different intents
joined (their set is both). Train/validation/test files are made once (seeded); both
sides train MiniLM with the same recipe (BCE with logits, lr 5e-5, batch 16, 3 epochs,
max length 64, best epoch by validation subset accuracy at 0.5), then tune each
label's threshold on validation for its best F1 (Dialect's rule, reimplemented here
for the Trainer's side) and are scored once on the test file.

    bench/.venv/bin/python bench/multi_label.py [--seed 42] [--dialect target/debug/dialect]

Prints subset accuracy, micro-F1 and macro-F1 on the test file for each side, and
Dialect's over the Trainer's.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path

INTENTS = ["card_arrival", "lost_or_stolen_card", "exchange_rate", "top_up_failed",
           "pending_transfer", "declined_card_payment"]
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def make_data(shared: Path, out: Path, seed: int):
    rows = list(csv.DictReader(open(shared / "banking77_train.csv", encoding="utf-8")))
    by_intent = {i: [r["text"] for r in rows if r["label"] == i] for i in INTENTS}
    rng = random.Random(seed)
    tickets = []
    for intent, texts in by_intent.items():
        for t in rng.sample(texts, 50):
            tickets.append((t, [intent]))
    for _ in range(300):
        a, b = rng.sample(INTENTS, 2)
        tickets.append((rng.choice(by_intent[a]) + " " + rng.choice(by_intent[b]), sorted([a, b])))
    rng.shuffle(tickets)
    n = len(tickets)
    parts = {"train": tickets[: n * 6 // 10], "val": tickets[n * 6 // 10: n * 8 // 10],
             "test": tickets[n * 8 // 10:]}
    for name, part in parts.items():
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["text", "labels"])
            for text, labels in part:
                w.writerow([text, ";".join(labels)])
    return parts


def tune_threshold(probs, truth):
    """Dialect's rule (src/multi_label.rs): the first best cut from the top, midpoints."""
    positives = sum(truth)
    if positives == 0:
        return 0.5
    rows = sorted(zip(probs, truth), key=lambda r: -r[0])
    tp = fp = 0
    best_f1, best, i = -1.0, 0.5, 0
    while i < len(rows):
        value = rows[i][0]
        while i < len(rows) and rows[i][0] == value:
            tp += rows[i][1]
            fp += 1 - rows[i][1]
            i += 1
        f1 = 2 * tp / (2 * tp + fp + positives - tp)
        if f1 > best_f1:
            best_f1 = f1
            best = (value + rows[i][0]) / 2 if i < len(rows) else value / 2
    return best


def scores(truth, predicted):
    k = len(truth[0])
    subset = sum(t == p for t, p in zip(truth, predicted)) / len(truth)
    tp = [sum(t[j] and p[j] for t, p in zip(truth, predicted)) for j in range(k)]
    fp = [sum((not t[j]) and p[j] for t, p in zip(truth, predicted)) for j in range(k)]
    fn = [sum(t[j] and not p[j] for t, p in zip(truth, predicted)) for j in range(k)]
    f1 = [2 * tp[j] / max(1, 2 * tp[j] + fp[j] + fn[j]) for j in range(k)]
    micro = 2 * sum(tp) / max(1, 2 * sum(tp) + sum(fp) + sum(fn))
    return {"subset_accuracy": subset, "micro_f1": micro, "macro_f1": sum(f1) / k}


def peer(parts, seed, out: Path):
    import numpy as np
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer,
                              TrainingArguments, DataCollatorWithPadding)
    labels = sorted(INTENTS)
    tok = AutoTokenizer.from_pretrained(MODEL)

    def encode(part):
        enc = tok([t for t, _ in part], truncation=True, max_length=64)
        flags = [[float(l in ls) for l in labels] for _, ls in part]
        return [{"input_ids": i, "attention_mask": a, "labels": f}
                for i, a, f in zip(enc["input_ids"], enc["attention_mask"], flags)]

    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        MODEL, num_labels=len(labels), problem_type="multi_label_classification",
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})

    def subset_at_half(p):
        probs = 1 / (1 + np.exp(-p.predictions))
        return {"subset": float(((probs >= 0.5) == (p.label_ids > 0.5)).all(axis=1).mean())}

    args = TrainingArguments(
        output_dir=str(out / "peer"), learning_rate=5e-5, per_device_train_batch_size=16,
        per_device_eval_batch_size=64, num_train_epochs=3, weight_decay=0.01,
        eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True,
        metric_for_best_model="subset", save_total_limit=1, seed=seed, report_to=[],
        use_cpu=True, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=encode(parts["train"]),
                      eval_dataset=encode(parts["val"]), compute_metrics=subset_at_half,
                      data_collator=DataCollatorWithPadding(tok))
    trainer.train()

    def probabilities(part):
        logits = trainer.predict(encode(part)).predictions
        return (1 / (1 + np.exp(-logits))).tolist(), [[l in ls for l in labels] for _, ls in part]

    val_p, val_t = probabilities(parts["val"])
    thresholds = [tune_threshold([r[j] for r in val_p], [r[j] for r in val_t])
                  for j in range(len(labels))]
    test_p, test_t = probabilities(parts["test"])
    predicted = [[p >= t for p, t in zip(row, thresholds)] for row in test_p]
    return scores(test_t, predicted)


def dialect(binary, out: Path, seed):
    env = dict(os.environ, HF_HUB_OFFLINE="1", DIALECT_HOME=str(out / "home"))
    model = out / "dialect-model"
    subprocess.run([binary, "train", str(out / "train.csv"), "--validation", str(out / "val.csv"),
                    "--label-column", "labels", "--label-separator", ";", "--model", MODEL,
                    "--lr", "5e-5", "--batch-size", "16", "--epochs", "3", "--max-length", "64",
                    "--seed", str(seed), "--device", "cpu", "--out", str(model)],
                   env=env, check=True)
    report = subprocess.run([binary, "evaluate", str(model), str(out / "test.csv"),
                             "--label-column", "labels", "--label-separator", ";",
                             "--device", "cpu", "--json"],
                            env=env, check=True, capture_output=True, text=True).stdout
    m = json.loads(report)
    return {"subset_accuracy": m["accuracy"], "micro_f1": m["labelSets"]["microF1"],
            "macro_f1": m["macroF1"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dialect", default="target/debug/dialect")
    ap.add_argument("--shared", default="../shared/data")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        parts = make_data(Path(a.shared), out, a.seed)
        ours = dialect(a.dialect, out, a.seed)
        theirs = peer(parts, a.seed, out)
    print(f"rows train {len(parts['train'])}, validation {len(parts['val'])}, test {len(parts['test'])}")
    for key in ours:
        print(f"{key:>16}: dialect {ours[key]:.4f}   transformers {theirs[key]:.4f}   "
              f"ratio {ours[key] / max(theirs[key], 1e-9):.3f}")


if __name__ == "__main__":
    main()
