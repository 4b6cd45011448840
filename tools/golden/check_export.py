"""Dev-only check: a model folder saved by Dialect loads in transformers and gives the
same probabilities as `dialect predict` (in f32, with the card's calibration temperature
applied to transformers' logits). Usage:
    python3 tools/golden/check_export.py MODEL_DIR "text one" "text two" ...
(needs torch + transformers, and a built target/debug/dialect or target/release/dialect:
`cargo build -p dialect-cli`)."""
import json, os, subprocess, sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir, texts = sys.argv[1], sys.argv[2:]
# The newer of the release and debug builds.
binary = max((p for p in ("target/release/dialect", "target/debug/dialect") if os.path.exists(p)), key=os.path.getmtime)
ours = json.loads(subprocess.check_output(
    [binary, "predict", model_dir, *texts, "--json", "--device", "cpu", "--precision", "f32"]))
card = json.load(open(os.path.join(model_dir, "dialect.json")))
temperature = (card.get("calibration") or {}).get("temperature", 1.0)
model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
tok = AutoTokenizer.from_pretrained(model_dir)
enc = tok(texts, padding=True, truncation=True, max_length=card["maxLength"], return_tensors="pt")
with torch.no_grad():
    probs = (model(**enc).logits / temperature).softmax(-1)
worst = 0.0
for i, p in enumerate(ours):
    theirs = {model.config.id2label[j]: float(probs[i, j]) for j in range(probs.shape[1])}
    for s in p["scores"]:
        worst = max(worst, abs(s["probability"] - theirs[s["label"]]))
    print(p["label"], "| transformers:", model.config.id2label[int(probs[i].argmax())])
print(f"architectures={model.config.architectures} temperature={temperature:.4f} max |Δprob| = {worst:.2e}")
assert worst < 1e-4, worst
