"""Fine-tune a text classifier with the transformers Trainer, reproducing a Dialect run.

Written by `dialect runs export ID FOLDER --trainer-job`. It reads the run's data file
(or `--data`), takes each row's class and its side of the split from rows.json (the
run's label map and corrections already applied), and trains with the run's recipe
from job.json. It saves the best model and tokenizer to output/model and writes
output/dialect-import.json, which `dialect runs import FOLDER` reads back as a run.

Run it with `accelerate launch` (see launch.sh) or plainly: `python train.py`.
"""

import argparse
import csv
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_json(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


def text_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def compose(cells, separator):
    """The engine's text of a row: NUL characters removed, the cells trimmed, empty ones
    skipped, joined."""
    cells = [c.replace("\x00", "").strip() for c in cells if c is not None]
    return separator.join(c for c in cells if c)


def jsonl_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_texts(path, fmt, columns, separator, encoding="UTF-8"):
    """{line: text} for every record of the file (line: where the record starts)."""
    # The engine's decoding: a UTF-8 BOM skipped, bytes invalid in the encoding replaced.
    encoding = "utf-8-sig" if encoding.lower() == "utf-8" else encoding
    texts = {}
    csv.field_size_limit(64 << 20)
    if fmt["kind"] == "jsonl":
        with open(path, encoding=encoding, errors="replace") as f:
            for line, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                row = json.loads(raw)
                texts[line] = compose([jsonl_cell(row.get(c)) for c in columns], separator)
        return texts
    with open(path, newline="", encoding=encoding, errors="replace") as f:
        reader = csv.reader(f, delimiter=fmt["delimiter"])
        header = [h.strip().strip("\ufeff") for h in next(reader)]
        missing = [c for c in columns if c not in header]
        if missing:
            sys.exit(f"{path}: no column {missing[0]!r} (the header has {header})")
        positions = [header.index(c) for c in columns]
        start = reader.line_num + 1
        for record in reader:
            if record:
                texts[start] = compose(
                    [record[i] if i < len(record) else "" for i in positions], separator
                )
            start = reader.line_num + 1
    return texts


def select(texts, rows, path):
    """The rows' texts, each checked against the hash the run recorded."""
    out = []
    for line, classes, digest in rows:
        text = texts.get(line)
        if text is None or text_hash(text) != digest:
            sys.exit(
                f"{path}: the row starting on line {line} is not the one the run used "
                "(the file changed since the run, or it is another file): export the job "
                "again from a run on this file"
            )
        out.append((text, classes))
    return out


def main():
    job = load_json("job.json")
    rows = load_json("rows.json")
    recipe = job["recipe"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=job["data"]["path"], help="the data file")
    parser.add_argument(
        "--validation-data",
        default=(job.get("validation") or {}).get("path"),
        help="the separate validation file (runs that had one)",
    )
    parser.add_argument("--model", default=recipe["model"], help="base model id or folder")
    parser.add_argument("--output", default=os.path.join(HERE, "output"))
    parser.add_argument(
        "--max-steps", type=int, default=-1, help="stop after this many steps (a quick check)"
    )
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(recipe["seed"])
    labels = rows["labels"]
    multi_label = rows["multiLabel"]
    text_spec = job["text"]
    data = job["data"]
    data_texts = read_texts(
        args.data, data["format"], data["columns"], text_spec["separator"], data["encoding"]
    )
    train_rows = select(data_texts, rows["train"], args.data)
    if job.get("validation"):
        val = job["validation"]
        val_texts = read_texts(
            args.validation_data, val["format"], val["columns"], text_spec["separator"], val["encoding"]
        )
        validation_rows = select(val_texts, rows["validation"], args.validation_data)
    else:
        validation_rows = select(data_texts, rows["validation"], args.data)

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    max_length = min(recipe["maxLength"], tokenizer.model_max_length or recipe["maxLength"])

    class Rows(torch.utils.data.Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            text, classes = self.items[i]
            encoded = tokenizer(text, truncation=True, max_length=max_length)
            if multi_label:
                target = [0.0] * len(labels)
                for c in classes:
                    target[c] = 1.0
                encoded["labels"] = target
            else:
                encoded["labels"] = classes[0]
            return encoded

    model = AutoModelForSequenceClassification.from_pretrained(
        args.model,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification" if multi_label else "single_label_classification",
        ignore_mismatched_sizes=recipe["newHead"],
    )

    evaluations = []  # the predicted classes of each evaluation, in order

    def compute_metrics(eval_pred):
        logits, truth = eval_pred.predictions, eval_pred.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        if multi_label:
            predicted = (logits >= 0.0).astype(int)  # sigmoid >= 0.5
            truth = truth.astype(int)
            evaluations.append([[int(j) for j in np.flatnonzero(p)] for p in predicted])
            accuracy = float((predicted == truth).all(axis=1).mean())
            tp = (predicted & truth).sum(axis=0)
            fp = (predicted & (1 - truth)).sum(axis=0)
            fn = ((1 - predicted) & truth).sum(axis=0)
            micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
        else:
            predicted = logits.argmax(axis=-1)
            evaluations.append([[int(p)] for p in predicted])
            accuracy = float((predicted == truth).mean())
            n = len(labels)
            tp = np.array([((predicted == c) & (truth == c)).sum() for c in range(n)])
            fp = np.array([((predicted == c) & (truth != c)).sum() for c in range(n)])
            fn = np.array([((predicted != c) & (truth == c)).sum() for c in range(n)])
            micro = accuracy
        f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(tp)), where=(2 * tp + fp + fn) > 0)
        return {"accuracy": accuracy, "macro_f1": float(f1.mean()), "micro_f1": float(micro)}

    precision = recipe["precision"]
    bf16 = precision != "f32" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    steps = args.max_steps > 0
    strategy = "steps" if steps else "epoch"
    training_args = TrainingArguments(
        output_dir=os.path.join(args.output, "checkpoints"),
        num_train_epochs=recipe["epochs"],
        max_steps=args.max_steps,
        per_device_train_batch_size=recipe["batchSize"],
        per_device_eval_batch_size=recipe["evalBatchSize"],
        learning_rate=recipe["learningRate"],
        weight_decay=recipe["weightDecay"],
        warmup_steps=recipe["warmupSteps"],
        max_grad_norm=recipe["maxGradNorm"],
        lr_scheduler_type="linear",
        seed=recipe["seed"],
        eval_strategy=strategy,
        save_strategy=strategy,
        logging_strategy=strategy,
        eval_steps=args.max_steps if steps else None,
        save_steps=args.max_steps if steps else 500,
        logging_steps=args.max_steps if steps else 500,
        load_best_model_at_end=True,
        metric_for_best_model=recipe["bestMetric"],
        greater_is_better=True,
        save_total_limit=2,
        bf16=bf16,
        report_to=[],
    )
    callbacks = []
    if recipe.get("earlyStoppingPatience"):
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=recipe["earlyStoppingPatience"]))
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=Rows(train_rows),
        eval_dataset=Rows(validation_rows),
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )
    result = trainer.train()
    if not trainer.is_world_process_zero():
        return

    model_dir = os.path.join(args.output, "model")
    trainer.save_model(model_dir)
    tokenizer.save_pretrained(model_dir)

    history = trainer.state.log_history
    train_losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
    evals = [h for h in history if "eval_loss" in h]
    epochs = []
    for i, h in enumerate(evals):
        before = [loss for step, loss in train_losses if step <= h["step"]]
        epochs.append(
            {
                "epoch": i + 1,
                "step": h["step"],
                "trainLoss": before[-1] if before else result.training_loss,
                "evalLoss": h["eval_loss"],
                "seconds": h.get("eval_runtime", 0.0),
                "samplesPerSecond": h.get("eval_samples_per_second", 0.0),
                "predicted": evaluations[i] if i < len(evaluations) else [],
            }
        )
    metric = "eval_" + recipe["bestMetric"]
    scores = [h.get(metric, float("-inf")) for h in evals]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i)) + 1 if scores else None
    out = {
        "format": 1,
        "trainer": "transformers Trainer",
        "sourceRun": job["sourceRun"],
        "source": job["source"],
        "data": os.path.abspath(args.data),
        "baseModel": args.model,
        "labels": labels,
        "multiLabel": multi_label,
        "truth": [classes for _, classes in validation_rows],
        "epochs": epochs,
        "bestEpoch": best,
        "steps": trainer.state.global_step,
        "maxSteps": args.max_steps if steps else 0,
        "seconds": result.metrics.get("train_runtime", 0.0),
        "device": str(training_args.device),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }
    path = os.path.join(args.output, "dialect-import.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)
    print(f"saved {model_dir}; import it with: dialect runs import {args.output}")


if __name__ == "__main__":
    main()
