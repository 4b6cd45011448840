"""ONNX export, checked in ONNX Runtime against Dialect's own probabilities.

Takes a run (or trains a short MiniLM run on Ticket Tagger: 600 rows, 1 epoch, CPU),
exports it with `dialect runs export ID DIR --onnx --int8`, runs model.onnx and
model.int8.onnx in onnxruntime on the run's validation rows (tokenised with the
exported tokenizer, padded per batch) and compares with `dialect predict --input
--precision f32`:

    bench/.venv/bin/python bench/onnx_check.py [--run ID --runs-dir DIR] [--dialect target/release/dialect]

Prints f32's max |Δprob|, int8's max |Δprob|, int8's agreement (same class as
Dialect's f32), Dialect's own int8 against its f32 for reference, and the accuracy of
each on the validation rows. Dev-only: needs
onnxruntime and transformers (bench/.venv), never CI.
"""

import argparse
import csv
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DATA = Path(__file__).resolve().parents[1] / "../shared/data/tickettagger_issues_train.csv"


def dialect(binary, *args, capture=True):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([binary, *map(str, args)], check=True, env=env,
                         stdout=subprocess.PIPE if capture else None)
    return out.stdout


def train(binary, runs):
    dialect(binary, "train", DATA, "--model", MODEL, "--max-rows", 600, "--epochs", 1,
            "--device", "cpu", "--runs-dir", runs, capture=False)
    return json.loads(dialect(binary, "runs", "--json", "--runs-dir", runs))[0]["id"]


def onnx_probabilities(graph, folder, texts, max_length, batch=32):
    session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(folder)
    rows = []
    for start in range(0, len(texts), batch):
        enc = tokenizer(texts[start:start + batch], padding=True, truncation=True,
                        max_length=max_length, return_tensors="np")
        feed = {"input_ids": enc["input_ids"].astype(np.int64),
                "attention_mask": enc["attention_mask"].astype(np.int64)}
        rows.append(session.run(["probabilities"], feed)[0])
    return np.concatenate(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run")
    ap.add_argument("--runs-dir")
    ap.add_argument("--dialect", default="target/release/dialect")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="onnx-check-"))
    runs = Path(args.runs_dir) if args.runs_dir else work / "runs"
    run = args.run or train(args.dialect, runs)

    review = json.loads(dialect(args.dialect, "runs", "review", run, "--json",
                                "--runs-dir", runs))
    labels = review["labels"]
    texts = [r["text"] for r in review["rows"]]
    truth = np.array([labels.index(r["truth"]) for r in review["rows"]])

    rows_csv, predicted_csv = work / "rows.csv", work / "predicted.csv"
    with open(rows_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in texts)
    model = json.loads(dialect(args.dialect, "runs", "show", run, "--json",
                               "--runs-dir", runs)).get("modelDir") or str(runs / run / "model")
    def predicted(precision):
        dialect(args.dialect, "predict", model, "--input", rows_csv, "--output", predicted_csv,
                "--text-column", "text", "--precision", precision, "--device", "cpu")
        with open(predicted_csv, encoding="utf-8") as f:
            return np.array([[float(r[f"prob_{l}"]) for l in labels]
                             for r in csv.DictReader(f)])

    ours, ours_int8 = predicted("f32"), predicted("int8")

    export = json.loads(dialect(args.dialect, "runs", "export", run, work, "--onnx", "--int8",
                                "--json", "--runs-dir", runs))
    folder = Path(export["folder"])
    config = json.loads((folder / "dialect.json").read_text())
    max_length = config.get("maxLength", 128)
    f32 = onnx_probabilities(folder / "model.onnx", folder, texts, max_length)
    int8 = onnx_probabilities(folder / "model.int8.onnx", folder, texts, max_length)

    accuracy = lambda p: float((p.argmax(1) == truth).mean())  # noqa: E731
    print(f"rows: {len(texts)} validation rows of run {run}, {len(labels)} classes")
    print(f"f32  ONNX vs Dialect: max |Δprob| {np.abs(f32 - ours).max():.2e}, "
          f"same class {float((f32.argmax(1) == ours.argmax(1)).mean()):.1%}")
    print(f"int8 ONNX vs Dialect f32: max |Δprob| {np.abs(int8 - ours).max():.3f}, "
          f"same class {float((int8.argmax(1) == ours.argmax(1)).mean()):.1%}")
    print(f"Dialect's own int8 vs its f32 (for reference): max |Δprob| "
          f"{np.abs(ours_int8 - ours).max():.3f}, "
          f"same class {float((ours_int8.argmax(1) == ours.argmax(1)).mean()):.1%}")
    print(f"accuracy: Dialect f32 {accuracy(ours):.3f}, ONNX f32 {accuracy(f32):.3f}, "
          f"ONNX int8 {accuracy(int8):.3f} (drop {accuracy(ours) - accuracy(int8):+.3f}), "
          f"Dialect int8 {accuracy(ours_int8):.3f}")
    sizes = {p.name: p.stat().st_size / 1e6 for p in folder.glob("*.onnx")}
    print("files: " + ", ".join(f"{n} {s:.1f} MB" for n, s in sorted(sizes.items())))


if __name__ == "__main__":
    main()
