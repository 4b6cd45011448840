#!/usr/bin/env python3
"""Generate the long-horizon golden runs: tests/fixtures/golden/{arch}/long_horizon.json
(dev-only, run by hand after make_golden.py; same packages).

    python3 tools/golden/make_long_horizon.py [ARCH ...]   (all of make_golden.ARCHS unless named)

The 3-step fixtures check one update at a time. This one checks a whole run the way
transformers' Trainer does it: its own optimiser groups, linear schedule with warm-up,
grad-norm clipping, step count with a ragged last batch, over several epochs and more
than 100 steps, on the tiny models of make_golden.py with dropout off (both sides draw
dropout masks from different generators, so only a dropout-free run can be compared
step by step) and a fixed batch order (the rows in file order every epoch). It records
the texts, their token ids, each step's learning rate, loss and gradient norm, and the
logits on the evaluation texts after the run. tests/golden_parity.rs replays it.
"""

import json
import os
import random
import sys

import torch
from torch.utils.data import SequentialSampler
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                          Trainer, TrainingArguments)

import make_golden as mg

ROWS = 60
BATCH = 8  # 60 rows: 7 full batches and a ragged one of 4 per epoch
EPOCHS = 14  # 8 steps per epoch: 112 steps
LR = 2e-3
WARMUP = 10
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0
NO_DROPOUT = {
    "bert": dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0),
    "distilbert": dict(dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0),
}
NO_DROPOUT["roberta"] = NO_DROPOUT["xlm_roberta"] = NO_DROPOUT["bert"]
# (Its classifier's dropout, cls_dropout, is absent from the config: hidden_dropout_prob.)
NO_DROPOUT["deberta_v2"] = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pooler_dropout=0.0)
NO_DROPOUT["modernbert"] = dict(embedding_dropout=0.0, attention_dropout=0.0, mlp_dropout=0.0, classifier_dropout=0.0)
BUG = {"crash", "crashes", "error", "bug", "blank", "slow"}
FEATURE = {"add", "feature", "request", "would", "like", "option", "export", "new"}


def make_rows():
    """Short texts from the fixture vocabulary; the label follows keywords, with 10% of
    labels flipped so the loss does not reach zero."""
    rng = random.Random(mg.SEED)
    rows = []
    while len(rows) < ROWS:
        words = [rng.choice(mg.WORDS) for _ in range(rng.randint(3, 14))]
        label = "bug" if BUG & set(words) else "feature_request" if FEATURE & set(words) else "general_inquiry"
        if rng.random() < 0.1:
            label = rng.choice(sorted(mg.LABEL2ID))
        rows.append((" ".join(words), label))
    return rows


class FixedOrderTrainer(Trainer):
    """The Trainer with the rows in file order every epoch, recording each step's loss
    and the learning rate that step uses."""

    losses, lrs, grad_norms = [], [], []

    def _get_train_sampler(self, *args, **kwargs):
        return SequentialSampler(self.train_dataset)

    def compute_loss(self, model, inputs, *args, **kwargs):
        loss = super().compute_loss(model, inputs, *args, **kwargs)
        value = loss[0] if isinstance(loss, tuple) else loss
        self.losses.append(value.detach().item())
        self.lrs.append(self.optimizer.param_groups[0]["lr"])
        return loss


def run(arch):
    model_dir = os.path.join(mg.OUT_ROOT, arch, "model")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, attn_implementation="eager", **NO_DROPOUT[arch])
    rows = make_rows()
    keys = ["input_ids", "attention_mask"] + (["token_type_ids"] if arch == "bert" else [])
    encoded = [tok(text, truncation=True, max_length=mg.MAX_LENGTH) for text, _ in rows]
    dataset = [{**{k: e[k] for k in keys}, "labels": mg.LABEL2ID[label]} for e, (_, label) in zip(encoded, rows)]
    args = TrainingArguments(
        output_dir="/tmp/dialect-long-horizon", learning_rate=LR, per_device_train_batch_size=BATCH,
        num_train_epochs=EPOCHS, weight_decay=WEIGHT_DECAY, warmup_steps=WARMUP,
        max_grad_norm=MAX_GRAD_NORM, lr_scheduler_type="linear", logging_strategy="no", eval_strategy="no", save_strategy="no", report_to=[],
        disable_tqdm=True, use_cpu=True, dataloader_num_workers=0, seed=mg.SEED)
    FixedOrderTrainer.losses, FixedOrderTrainer.lrs, FixedOrderTrainer.grad_norms = [], [], []
    trainer = FixedOrderTrainer(model=model, args=args, train_dataset=dataset,
                                data_collator=DataCollatorWithPadding(tok))
    # The gradient norm before clipping, unrounded (the Trainer's logs round it).
    clip = trainer.accelerator.clip_grad_norm_

    def recording_clip(*a, **k):
        norm = clip(*a, **k)
        trainer.grad_norms.append(float(norm))
        return norm

    trainer.accelerator.clip_grad_norm_ = recording_clip
    trainer.train()
    steps = trainer.state.global_step
    assert steps == len(trainer.losses) == len(trainer.grad_norms), (steps, len(trainer.losses), len(trainer.grad_norms))
    assert steps == EPOCHS * -(-ROWS // BATCH), steps
    assert any(n > MAX_GRAD_NORM for n in trainer.grad_norms), "clipping untested"
    logits = mg.logits_of(model, mg.encode(tok, mg.EVAL_TEXTS, arch))
    out = {
        "arch": arch, "rows": [{"text": t, "label": l, "input_ids": e["input_ids"]} for (t, l), e in zip(rows, encoded)],
        "batch_size": BATCH, "epochs": EPOCHS, "lr": LR, "warmup_steps": WARMUP,
        "weight_decay": WEIGHT_DECAY, "max_grad_norm": MAX_GRAD_NORM, "steps": steps,
        "lr_per_step": trainer.lrs, "loss_per_step": trainer.losses,
        "grad_norm_per_step": trainer.grad_norms, "eval_texts": mg.EVAL_TEXTS,
        "logits_after": mg.to_lists(logits),
    }
    path = os.path.join(mg.OUT_ROOT, arch, "long_horizon.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{arch}: {steps} steps, loss {trainer.losses[0]:.4f} -> {sum(trainer.losses[-8:]) / 8:.4f} "
          f"(last epoch mean), max grad norm {max(trainer.grad_norms):.3f}")


if __name__ == "__main__":
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for arch in sys.argv[1:] or mg.ARCHS:
        run(arch)
