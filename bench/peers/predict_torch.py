"""PyTorch eager peer of examples/bench_predict.rs: the same saved model (transformers
AutoModelForSequenceClassification), the same texts, truncation at the model's max
length (from Dialect's dialect.json), torch.inference_mode, the same thread count.
Prints one JSON object. Dev-only (bench/predict.sh)."""
import json
import sys
import time

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def main() -> None:
    model_dir, texts_file = sys.argv[1], sys.argv[2]
    single_n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    batch_n = int(sys.argv[4]) if len(sys.argv) > 4 else 512
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else torch.get_num_threads()
    torch.set_num_threads(threads)
    with open(f"{model_dir}/dialect.json") as f:
        max_length = json.load(f)["maxLength"]
    texts = open(texts_file, encoding="utf-8").read().splitlines()
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()

    def predict(batch):
        enc = tok(batch, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        return model(**enc).logits.softmax(-1)

    with torch.inference_mode():
        for t in texts[:10]:
            predict([t])
        latencies = []
        for i in range(single_n):
            t = texts[i % len(texts)]
            start = time.perf_counter()
            predict([t])
            latencies.append((time.perf_counter() - start) * 1e3)
        latencies.sort()
        pct = lambda p: latencies[round((len(latencies) - 1) * p)]
        batch = [texts[i % len(texts)] for i in range(batch_n)]
        # Batches of 64, sorted by length: what a careful script would do.
        order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
        start = time.perf_counter()
        for k in range(0, len(order), 64):
            predict([batch[i] for i in order[k:k + 64]])
        batch_seconds = time.perf_counter() - start
    print(json.dumps({
        "p50_ms": pct(0.5), "p95_ms": pct(0.95), "single_n": single_n,
        "batch_texts_per_s": batch_n / batch_seconds, "batch_n": batch_n, "threads": threads,
    }))


if __name__ == "__main__":
    main()
