#!/usr/bin/env python3
"""Generate the golden fixtures under tests/fixtures/golden/ (dev-only, run by hand).

    pip install torch transformers && python3 tools/golden/make_golden.py [ARCH ...]

For each architecture (distilbert, bert, roberta, xlm_roberta, deberta_v2; all unless
named) this builds a tiny randomly initialised *ForSequenceClassification model plus its
tokenizer (BertTokenizerFast over a hand-written vocabulary; for roberta a byte-level BPE
and for xlm_roberta and deberta_v2 a SentencePiece-style Unigram, trained here with the
`tokenizers` library on the script's fixed texts), perturbs every LayerNorm parameter and every bias so that wrong
LayerNorm / bias handling shows up in the comparisons, saves it, records logits
on a fixed batch, then runs 3 optimisation steps exactly like the Hugging Face
Trainer does them (AdamW with two weight-decay groups, linear schedule, global
grad-norm clipping) with dropout off, and records everything the Rust tests
need.  See tools/golden/README.md for the file layout.

Everything is deterministic: fixed seeds, fixed data, CPU only, deterministic
algorithms, eager attention.
"""

import inspect
import json
import math
import os
import shutil
import sys
import tempfile

import torch
import torch.nn as nn

import transformers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertTokenizerFast,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaTokenizer,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
    XLMRobertaTokenizer,
    DebertaV2Config,
    DebertaV2ForSequenceClassification,
    DebertaV2Tokenizer,
    ModernBertConfig,
    ModernBertForSequenceClassification,
    PreTrainedTokenizerFast,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    get_linear_schedule_with_warmup,
)
from transformers.trainer_pt_utils import get_parameter_names
from safetensors.torch import save_file, load_file

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_ROOT = os.path.join(REPO_ROOT, "tests", "fixtures", "golden")

SEED = 1234
MAX_LENGTH = 64

ID2LABEL = {0: "bug", 1: "feature_request", 2: "general_inquiry"}
LABEL2ID = {v: k for k, v in ID2LABEL.items()}

# ---------------------------------------------------------------------------
# Vocabulary (~120 tokens). Order matters: ids are line numbers in vocab.txt.
# ---------------------------------------------------------------------------
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = [".", ",", "?", "!", "'", ":", "-"]
# single letters a-z ("a" and "i" double as words)
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
WORDS = [
    "the", "an", "app", "crash", "crashes", "when", "click", "login",
    "please", "add", "dark", "mode", "how", "do", "reset", "my",
    "password", "error", "bug", "feature", "to", "it", "is", "on",
    "in", "and", "not", "work", "page", "screen", "button", "after",
    "update", "can", "you", "help", "with", "account", "email", "settings",
    "save", "load", "slow", "new", "request", "would", "like", "support",
    "option", "export", "data", "file", "sync", "phone", "version", "again",
    "every", "time", "get", "got", "show", "open", "tried", "but",
    "thanks", "hi", "message", "blank", "change", "where", "of", "for",
]
SUFFIXES = ["##s", "##es", "##ing", "##ed", "##er", "##ly", "##y", "##ion", "##able", "##ment"]
VOCAB = SPECIALS + PUNCT + LETTERS + WORDS + SUFFIXES
assert len(VOCAB) == len(set(VOCAB)), "duplicate vocab entry"
assert VOCAB[0] == "[PAD]"

# Texts whose logits are recorded (different lengths; the last one contains an
# out-of-vocabulary word -> [UNK], and some words that split into word pieces).
EVAL_TEXTS = [
    "The app crashes when I click login.",
    "Please add dark mode",
    "How do I reset my password? I tried again but got an error message and the page is blank.",
    "hi, the sync feature is not working on my phone xyzzy!",
]

# Fixed training batches: (text, label-name).
TRAIN_BATCHES = [
    [
        ("the app crashes when i click login", "bug"),
        ("please add dark mode to the app", "feature_request"),
    ],
    [
        ("how do i change my email", "general_inquiry"),
        ("error message after update, page is blank", "bug"),
        ("would like an export option for data files", "feature_request"),
    ],
    [
        ("can you help with my account settings?", "general_inquiry"),
        ("sync is slow and crashes every time", "bug"),
    ],
]

# Trainer hyper-parameters (TrainingArguments defaults except lr / wd / steps).
LR = 1e-3
WEIGHT_DECAY = 0.01
BETAS = (0.9, 0.999)
EPS = 1e-8
MAX_GRAD_NORM = 1.0
WARMUP_STEPS = 0
TOTAL_STEPS = 5
NUM_STEPS = 3

PERTURB_STD = 0.1

ARCHS = ["distilbert", "bert", "roberta", "xlm_roberta", "deberta_v2", "modernbert"]
# RoBERTa and XLM-R: BERT's layers, positions numbered after the padding id (1), one
# token type, no pooler, RobertaClassificationHead.
ROBERTA_FAMILY = {"roberta", "xlm_roberta"}
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0-3, as in the real checkpoints
BPE_VOCAB = 400  # 256 bytes + specials + ~140 merges
UNIGRAM_VOCAB = 160
# DeBERTa-v3's special tokens: [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3, [MASK] last.
DEBERTA_SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]
# Tiny relative-position buckets (deberta-v3 uses 256 over 512 positions) so that the
# fixture texts reach the log-bucketed distances (|i - j| > 4).
DEBERTA_POSITION_BUCKETS = 8
# ModernBERT's special tokens follow its BPE vocabulary, in answerdotai/ModernBERT-base's
# order (50280-50284 there); [CLS] $A [SEP].
MODERNBERT_SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
# Its base checkpoint pools the mean of the token vectors (transformers' default: "cls",
# whose logits golden.json also records).
MODERNBERT_POOLING = "mean"

# Standard deviation of the random init (config.initializer_range). The Hugging Face
# default 0.02 makes a 2-layer, 32-wide model almost input-independent: attention is
# uniform, the [CLS] output is dominated by the [CLS]+position-0 embedding, and the
# logits of different texts differ by ~6e-5 -- ignoring the attention mask entirely
# changes them by only ~8e-5, which a Rust test with atol 1e-4 would not catch.
# With 0.1 the logits differ across texts by ~6e-2 and a mask bug shifts them by ~9e-2.
INIT_RANGE = 0.1


def make_tokenizer(tmpdir):
    vocab_path = os.path.join(tmpdir, "vocab.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        for tok in VOCAB:
            f.write(tok + "\n")
    if "vocab_file" in inspect.signature(BertTokenizerFast.__init__).parameters:
        # transformers 4.x
        tok = BertTokenizerFast(vocab_file=vocab_path, do_lower_case=True, model_max_length=MAX_LENGTH)
    else:
        # transformers 5.x: BertTokenizerFast is an alias of the tokenizers-backed BertTokenizer,
        # which takes the vocabulary as a dict.
        tok = BertTokenizerFast(
            vocab={t: i for i, t in enumerate(VOCAB)}, do_lower_case=True, model_max_length=MAX_LENGTH
        )
    assert tok.vocab_size == len(VOCAB), (tok.vocab_size, len(VOCAB))
    assert tok.pad_token_id == 0
    return tok


def tokenizer_corpus():
    """The texts the roberta / xlm_roberta tokenizers are trained on: the fixed texts and
    every fixture word (the long-horizon rows are made of those words)."""
    texts = EVAL_TEXTS + [t for batch in TRAIN_BATCHES for t, _ in batch]
    return texts + [" ".join(WORDS[i : i + 8]) for i in range(0, len(WORDS), 8)]


def make_roberta_tokenizer():
    """A tiny byte-level BPE (RoBERTa's pipeline: ByteLevel pre-tokenizer, <s> $A </s>,
    <pad> = 1, <mask> last) trained on the fixed texts."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB,
        special_tokens=ROBERTA_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(tokenizer_corpus(), trainer)
    vocab = bpe.get_vocab()
    vocab["<mask>"] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in json.loads(bpe.to_str())["model"]["merges"]]
    tok = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_LENGTH)
    assert [tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    return tok


def unigram_pieces(specials, unk):
    """A tiny SentencePiece-style Unigram vocabulary trained on the fixed texts: `specials`
    first (in that order), then the learned pieces with reproducible scores."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    uni = Tokenizer(models.Unigram())
    uni.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    trainer = trainers.UnigramTrainer(
        vocab_size=UNIGRAM_VOCAB, special_tokens=specials, unk_token=unk, show_progress=False
    )
    uni.train_from_iterator(tokenizer_corpus(), trainer)
    trained = json.loads(uni.to_str())["model"]["vocab"]
    assert [p for p, _ in trained[: len(specials)]] == specials, trained[: len(specials)]
    # The trainer picks the same pieces every run, but its scores (and so the order of
    # the pieces) vary from run to run by up to ~1e-4. For fixtures that are the same
    # every run, each piece scores the log of its share of occurrences in the corpus's
    # words, and the pieces are ordered as SentencePiece orders them (best score first).
    words = ["▁" + w for text in tokenizer_corpus() for w in text.split()]
    counts = {p: max(1, sum(w.count(p) for w in words)) for p, _ in trained[len(specials) :]}
    total = sum(counts.values())
    learned = sorted(
        ((p, round(math.log(c / total), 6)) for p, c in counts.items()), key=lambda x: (-x[1], x[0])
    )
    return [(p, 0.0) for p in specials] + learned


def make_xlm_roberta_tokenizer():
    """A tiny SentencePiece-style Unigram (XLM-R's pipeline: Metaspace pre-tokenizer,
    <s> $A </s>, <pad> = 1, <unk> = 3, <mask> last) trained on the fixed texts."""
    pieces = unigram_pieces(ROBERTA_SPECIALS, "<unk>") + [("<mask>", 0.0)]
    tok = XLMRobertaTokenizer(vocab=pieces, model_max_length=MAX_LENGTH)
    assert [tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    return tok


def make_deberta_tokenizer():
    """A tiny SentencePiece-style Unigram in DeBERTa-v3's pipeline (cased, Metaspace,
    [CLS] $A [SEP]; [PAD] = 0, [CLS] = 1, [SEP] = 2, [UNK] = 3, [MASK] last) trained on
    the fixed texts."""
    pieces = unigram_pieces(DEBERTA_SPECIALS, "[UNK]") + [("[MASK]", 0.0)]
    tok = DebertaV2Tokenizer(vocab=pieces, model_max_length=MAX_LENGTH)
    assert [tok.pad_token_id, tok.cls_token_id, tok.sep_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    assert tok.mask_token_id == len(pieces) - 1
    return tok


def make_modernbert_tokenizer():
    """A tiny byte-level BPE in ModernBERT's pipeline (NFC, ByteLevel without a prefix
    space, [CLS] $A [SEP], the special tokens after the vocabulary) trained on the fixed
    texts."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(tokenizer_corpus(), trainer)
    first = bpe.get_vocab_size()
    bpe.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "[MASK]") for t in MODERNBERT_SPECIALS])
    ids = {t: bpe.token_to_id(t) for t in MODERNBERT_SPECIALS}
    assert list(ids.values()) == list(range(first, first + len(MODERNBERT_SPECIALS))), ids
    bpe.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
        mask_token="[MASK]", model_max_length=MAX_LENGTH, model_input_names=["input_ids", "attention_mask"],
    )
    assert tok.pad_token_id == ids["[PAD]"] and len(tok) == first + len(MODERNBERT_SPECIALS)
    return tok


def make_arch_tokenizer(arch, tmpdir):
    if arch == "modernbert":
        return make_modernbert_tokenizer()
    if arch == "roberta":
        return make_roberta_tokenizer()
    if arch == "xlm_roberta":
        return make_xlm_roberta_tokenizer()
    if arch == "deberta_v2":
        return make_deberta_tokenizer()
    return make_tokenizer(tmpdir)


def write_legacy_tokenizer_files(model_dir):
    """transformers 4.x save_pretrained writes vocab.txt and special_tokens_map.json next to
    tokenizer.json / tokenizer_config.json; 5.x only writes the latter two. Write the 4.x
    files ourselves (same content 4.x would write) if they are missing."""
    vocab_path = os.path.join(model_dir, "vocab.txt")
    if not os.path.exists(vocab_path):
        with open(vocab_path, "w", encoding="utf-8") as f:
            for t in VOCAB:
                f.write(t + "\n")
    with open(vocab_path, encoding="utf-8") as f:
        assert [l.rstrip("\n") for l in f] == VOCAB
    stm_path = os.path.join(model_dir, "special_tokens_map.json")
    if not os.path.exists(stm_path):
        stm = {
            "cls_token": "[CLS]",
            "mask_token": "[MASK]",
            "pad_token": "[PAD]",
            "sep_token": "[SEP]",
            "unk_token": "[UNK]",
        }
        with open(stm_path, "w", encoding="utf-8") as f:
            json.dump(stm, f, indent=2)
            f.write("\n")


def make_model(arch, vocab_size):
    roberta = arch in ROBERTA_FAMILY
    common = dict(
        vocab_size=vocab_size,
        # RoBERTa's positions start after the padding id: 64 tokens need 66 rows.
        max_position_embeddings=MAX_LENGTH + 2 if roberta else MAX_LENGTH,
        num_labels=3,
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
        initializer_range=INIT_RANGE,
        pad_token_id=1 if roberta else 0,
    )
    if arch == "distilbert":
        cfg = DistilBertConfig(
            dim=32,
            n_layers=2,
            n_heads=4,
            hidden_dim=64,
            activation="gelu",
            sinusoidal_pos_embds=False,
            **common,
        )
        cls = DistilBertForSequenceClassification
    elif arch == "bert":
        cfg = BertConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            type_vocab_size=2,
            hidden_act="gelu",
            **common,
        )
        cls = BertForSequenceClassification
    elif roberta:
        config_class, cls = {
            "roberta": (RobertaConfig, RobertaForSequenceClassification),
            "xlm_roberta": (XLMRobertaConfig, XLMRobertaForSequenceClassification),
        }[arch]
        cfg = config_class(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            type_vocab_size=1,
            hidden_act="gelu",
            layer_norm_eps=1e-5,
            bos_token_id=0,
            eos_token_id=2,
            **common,
        )
    elif arch == "deberta_v2":
        # Shaped like deberta-v3: relative attention with log buckets, both
        # disentangled terms through the shared key/query projections, a normalised
        # relative-position table, no absolute positions, no token types.
        cfg = DebertaV2Config(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            type_vocab_size=0,
            hidden_act="gelu",
            layer_norm_eps=1e-7,
            relative_attention=True,
            position_buckets=DEBERTA_POSITION_BUCKETS,
            max_relative_positions=-1,
            pos_att_type=["p2c", "c2p"],
            share_att_key=True,
            position_biased_input=False,
            norm_rel_ebd="layer_norm",
            pooler_hidden_size=32,
            pooler_hidden_act="gelu",
            pooler_dropout=0.0,
            **common,
        )
        cls = DebertaV2ForSequenceClassification
    elif arch == "modernbert":
        # 3 layers, every third global: layer 0 global, 1 and 2 local with a window of
        # 4 (2 tokens each side), which the fixture texts exceed. No biases but the
        # classifier's; pre-norm; GeGLU; rotary positions.
        first_special = vocab_size - len(MODERNBERT_SPECIALS)
        special = {t: first_special + i for i, t in enumerate(MODERNBERT_SPECIALS)}
        cfg = ModernBertConfig(
            hidden_size=32,
            num_hidden_layers=3,
            num_attention_heads=4,
            intermediate_size=48,
            hidden_activation="gelu",
            global_attn_every_n_layers=3,
            local_attention=4,
            global_rope_theta=160000.0,
            local_rope_theta=10000.0,
            classifier_pooling=MODERNBERT_POOLING,
            **{
                **common,
                "pad_token_id": special["[PAD]"],
                "cls_token_id": special["[CLS]"],
                "sep_token_id": special["[SEP]"],
                "bos_token_id": special["[CLS]"],
                "eos_token_id": special["[SEP]"],
            },
        )
        assert cfg.layer_types == ["full_attention", "sliding_attention", "sliding_attention"], cfg.layer_types
        cls = ModernBertForSequenceClassification
    else:
        raise ValueError(arch)
    # Eager attention: plain softmax(QK^T/sqrt(d) + mask)V, the reference math.
    cfg._attn_implementation = "eager"
    torch.manual_seed(SEED)
    model = cls(cfg)
    return model


def perturb(model):
    """Add seeded N(0, PERTURB_STD) noise to every LayerNorm weight/bias and every bias."""
    gen = torch.Generator().manual_seed(SEED + 1)
    ln_param_names = set()
    for mname, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            for pname, _ in mod.named_parameters(recurse=False):
                ln_param_names.add(f"{mname}.{pname}" if mname else pname)
    touched = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ln_param_names or name.endswith("bias"):
                noise = torch.randn(p.shape, generator=gen, dtype=torch.float32) * PERTURB_STD
                p.add_(noise)
                touched.append(name)
    return touched


def decay_parameter_names(model):
    """Trainer.get_decay_parameter_names equivalent."""
    try:
        # transformers >= ~4.4x: an instance method that only uses its model argument.
        from transformers import Trainer

        names = Trainer.get_decay_parameter_names(None, model)
        return list(names), "Trainer.get_decay_parameter_names"
    except Exception as e:  # pragma: no cover - fallback for other versions
        print(f"  (Trainer.get_decay_parameter_names unavailable: {e!r}; using fallback)")
        names = get_parameter_names(model, [nn.LayerNorm])
        return [n for n in names if "bias" not in n], "get_parameter_names fallback"


def gradient_noise_parameter_names(model):
    """Attention *key* biases: softmax over keys is invariant to adding q.b_k to every score
    of a query, so their true gradient is exactly 0 and autograd only returns rounding noise
    (~1e-10). Adam normalises that noise into updates of up to ~lr per step, so after the 3
    steps these parameters cannot be compared tightly between implementations."""
    return sorted(
        n for n, _ in model.named_parameters()
        if n.endswith("attention.k_lin.bias") or n.endswith("attention.self.key.bias")
    )


def to_lists(t):
    return t.detach().cpu().tolist()


def encode(tok, texts, arch):
    enc = tok(texts, padding="longest", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    keys = ["input_ids", "attention_mask"] + (["token_type_ids"] if arch == "bert" else [])
    return {k: enc[k] for k in keys}


def logits_of(model, batch):
    model.eval()
    with torch.no_grad():
        return model(**batch).logits


def run_arch(arch):
    print(f"=== {arch} ===")
    out_dir = os.path.join(OUT_ROOT, arch)
    model_dir = os.path.join(out_dir, "model")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(model_dir)

    with tempfile.TemporaryDirectory() as tmp:
        tok = make_arch_tokenizer(arch, tmp)
        tok.save_pretrained(model_dir)
    if arch not in ROBERTA_FAMILY | {"deberta_v2", "modernbert"}:
        write_legacy_tokenizer_files(model_dir)

    model = make_model(arch, len(tok))
    touched = perturb(model)
    model.eval()
    model.save_pretrained(model_dir, safe_serialization=True)

    # ---- logits on the eval batch --------------------------------------
    encoded = encode(tok, EVAL_TEXTS, arch)
    logits = logits_of(model, encoded)
    extra = {}
    if arch == "modernbert":
        # The same weights pooling the first token's vector instead.
        model.config.classifier_pooling = "cls"
        extra["logits_cls_pooling"] = to_lists(logits_of(model, encoded))
        model.config.classifier_pooling = MODERNBERT_POOLING

    # ---- Trainer-style optimisation ------------------------------------
    decay, decay_src = decay_parameter_names(model)
    decay_set = set(decay)
    all_names = [n for n, p in model.named_parameters() if p.requires_grad]
    no_decay = [n for n in all_names if n not in decay_set]
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if n in decay_set and p.requires_grad],
            "weight_decay": WEIGHT_DECAY,
        },
        {
            "params": [p for n, p in model.named_parameters() if n not in decay_set and p.requires_grad],
            "weight_decay": 0.0,
        },
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    sched = get_linear_schedule_with_warmup(opt, WARMUP_STEPS, TOTAL_STEPS)

    noise_names = gradient_noise_parameter_names(model)
    batches_json = []
    lr_per_step, loss_per_step, grad_norm_per_step = [], [], []
    model.eval()  # dropout off, gradients still flow
    model.zero_grad(set_to_none=True)
    for step, rows in enumerate(TRAIN_BATCHES[:NUM_STEPS]):
        texts = [t for t, _ in rows]
        labels = torch.tensor([LABEL2ID[l] for _, l in rows], dtype=torch.long)
        batch = encode(tok, texts, arch)
        bj = {k: to_lists(v) for k, v in batch.items()}
        bj["texts"] = texts
        bj["labels"] = to_lists(labels)
        batches_json.append(bj)

        lr_now = opt.param_groups[0]["lr"]
        assert all(g["lr"] == lr_now for g in opt.param_groups)
        out = model(**batch, labels=labels)
        out.loss.backward()
        noise_g = max((dict(model.named_parameters())[n].grad.abs().max().item() for n in noise_names), default=0.0)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        opt.step()
        sched.step()
        opt.zero_grad()
        lr_per_step.append(lr_now)
        loss_per_step.append(out.loss.item())
        grad_norm_per_step.append(norm.item())
        print(f"  step {step}: lr={lr_now!r} loss={out.loss.item():.6f} grad_norm={norm.item():.6f} "
              f"max|grad| of key biases={noise_g:.2e}")

    assert any(g > MAX_GRAD_NORM for g in grad_norm_per_step), (
        f"no step had grad norm > {MAX_GRAD_NORM}, clipping untested: {grad_norm_per_step}"
    )
    logits_after = logits_of(model, encoded)

    state = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, "after_3_steps.safetensors"), metadata={"format": "pt"})

    golden = {
        "arch": arch,
        "texts": EVAL_TEXTS,
        "max_length": MAX_LENGTH,
        "encoded": {k: to_lists(v) for k, v in encoded.items()},
        "tokens": [tok.convert_ids_to_tokens(row) for row in to_lists(encoded["input_ids"])],
        "logits": to_lists(logits),
        **extra,
        "perturbed_parameters": sorted(touched),
        "decay_parameters": sorted(decay),
        "no_decay_parameters": sorted(no_decay),
        "gradient_noise_parameters": noise_names,
        "train": {
            "lr": LR,
            "weight_decay": WEIGHT_DECAY,
            "betas": list(BETAS),
            "eps": EPS,
            "max_grad_norm": MAX_GRAD_NORM,
            "warmup_steps": WARMUP_STEPS,
            "total_steps": TOTAL_STEPS,
            "num_steps": NUM_STEPS,
            "batches": batches_json,
            "lr_per_step": lr_per_step,
            "loss_per_step": loss_per_step,
            "grad_norm_per_step": grad_norm_per_step,
            "logits_after": to_lists(logits_after),
        },
    }
    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"  decay group from {decay_src}: {len(decay)} params, no-decay: {len(no_decay)}")
    return golden


def sanity_check(arch, golden):
    """Reload what was written and check it reproduces the recorded numbers."""
    out_dir = os.path.join(OUT_ROOT, arch)
    model_dir = os.path.join(out_dir, "model")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager")
    model.eval()
    enc = encode(tok, golden["texts"], arch)
    for k, v in golden["encoded"].items():
        assert to_lists(enc[k]) == v, f"{arch}: re-tokenised {k} differs"
    logits = logits_of(model, enc)
    ref = torch.tensor(golden["logits"])
    diff = (logits - ref).abs().max().item()
    assert diff < 1e-6, f"{arch}: reloaded logits differ by {diff}"
    # after-3-steps weights reproduce logits_after
    sd = load_file(os.path.join(out_dir, "after_3_steps.safetensors"))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert not [m for m in missing if not m.endswith("position_ids") and "token_type_ids" not in m], missing
    logits2 = logits_of(model, enc)
    diff2 = (logits2 - torch.tensor(golden["train"]["logits_after"])).abs().max().item()
    assert diff2 < 1e-6, f"{arch}: after-3-steps logits differ by {diff2}"
    check_tokenizer_json(arch, golden)
    replay_check(arch, golden)
    print(f"  sanity ok: reload logits max|diff|={diff:.3g}, after-steps max|diff|={diff2:.3g}")


def check_tokenizer_json(arch, golden):
    """The bare tokenizer.json (what the Rust `tokenizers` crate loads) must give the same ids."""
    from tokenizers import Tokenizer

    t = Tokenizer.from_file(os.path.join(OUT_ROOT, arch, "model", "tokenizer.json"))
    pad = t.token_to_id("[PAD]") if arch == "modernbert" else 1 if arch in ROBERTA_FAMILY else 0

    def check(texts, enc):
        rows = [e.ids for e in t.encode_batch(texts)]
        width = max(len(r) for r in rows)
        assert [r + [pad] * (width - len(r)) for r in rows] == enc["input_ids"], f"{arch}: tokenizer.json ids differ"
        assert [[1] * len(r) + [0] * (width - len(r)) for r in rows] == enc["attention_mask"]
        if "token_type_ids" in enc:
            assert all(all(x == 0 for x in r) for r in enc["token_type_ids"])

    check(golden["texts"], golden["encoded"])
    for b in golden["train"]["batches"]:
        check(b["texts"], b)


def replay_check(arch, golden):
    """Re-derive the 3 steps with a hand-written clip + AdamW + linear schedule (the formulas
    the Rust side implements, see README) and compare against after_3_steps.safetensors."""
    out_dir = os.path.join(OUT_ROOT, arch)
    tr = golden["train"]
    model = AutoModelForSequenceClassification.from_pretrained(
        os.path.join(out_dir, "model"), attn_implementation="eager"
    )
    model.eval()
    decay = set(golden["decay_parameters"])
    params = dict(model.named_parameters())
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    b1, b2 = tr["betas"]
    for step, b in enumerate(tr["batches"]):
        t = step + 1
        lr = tr["lr"] * max(0.0, (tr["total_steps"] - step) / max(1, tr["total_steps"] - tr["warmup_steps"]))
        assert abs(lr - tr["lr_per_step"][step]) < 1e-15, (lr, tr["lr_per_step"][step])
        batch = {k: torch.tensor(b[k]) for k in ("input_ids", "attention_mask", "token_type_ids") if k in b}
        model.zero_grad(set_to_none=True)
        loss = model(**batch, labels=torch.tensor(b["labels"])).loss
        loss.backward()
        assert abs(loss.item() - tr["loss_per_step"][step]) < 1e-6
        # clip_grad_norm_: total = ||(||g_i||_2)_i||_2 ; coef = min(1, max_norm / (total + 1e-6))
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params.values()]))
        assert abs(total.item() - tr["grad_norm_per_step"][step]) < 1e-5
        coef = min(1.0, tr["max_grad_norm"] / (total.item() + 1e-6))
        with torch.no_grad():
            for n, p in params.items():
                g = p.grad * coef
                wd = tr["weight_decay"] if n in decay else 0.0
                p.mul_(1 - lr * wd)
                m[n].mul_(b1).add_(g, alpha=1 - b1)
                v[n].mul_(b2).addcmul_(g, g, value=1 - b2)
                bc1 = 1 - b1**t
                bc2 = 1 - b2**t
                denom = v[n].sqrt() / (bc2**0.5) + tr["eps"]
                p.addcdiv_(m[n], denom, value=-lr / bc1)
    ref = load_file(os.path.join(out_dir, "after_3_steps.safetensors"))
    noise = set(golden["gradient_noise_parameters"])
    worst = max((params[n].detach() - ref[n]).abs().max().item() for n in params if n not in noise)
    assert worst < 1e-6, f"{arch}: hand-written AdamW replay differs by {worst}"
    # DeBERTa has none: its key bias also meets the position queries (p2c), which vary by key.
    worst_noise = max(((params[n].detach() - ref[n]).abs().max().item() for n in noise), default=0.0)
    print(
        f"  replay ok: hand-written clip+AdamW matches after_3_steps (max|diff|={worst:.3g}; "
        f"attention key biases, whose gradient is pure rounding noise: {worst_noise:.3g})"
    )


# ---------------------------------------------------------------------------
# bert_legacy: the bert starting weights stored the way old checkpoints look.
# ---------------------------------------------------------------------------
LEGACY_LN_RENAMES = [(".LayerNorm.weight", ".LayerNorm.gamma"), (".LayerNorm.bias", ".LayerNorm.beta")]
LEGACY_HEAD_PREFIX = "classifier."


def legacy_key(name):
    """Modern BertForSequenceClassification key -> old-checkpoint key: drop the `bert.`
    prefix (the `classifier.*` head keeps its name) and call LayerNorm's weight/bias
    gamma/beta."""
    if name.startswith("bert."):
        name = name[len("bert."):]
    else:
        assert name.startswith(LEGACY_HEAD_PREFIX), name
    for new, old in LEGACY_LN_RENAMES:
        if name.endswith(new):
            name = name[: -len(new)] + old
    return name


def unlegacy_key(name):
    """Inverse of legacy_key."""
    for new, old in LEGACY_LN_RENAMES:
        if name.endswith(old):
            name = name[: -len(old)] + new
    if not name.startswith(LEGACY_HEAD_PREFIX):
        name = "bert." + name
    return name


def make_bert_legacy(bert_golden):
    """Write tests/fixtures/golden/bert_legacy/model/: the exact tensors of
    bert/model/model.safetensors (read back from that file, not re-created) as a
    torch.save'd pytorch_model.bin with old-style key names, bert's config.json, and a
    tokenizer given only as vocab.txt + tokenizer_config.json. Must run after run_arch("bert")."""
    import collections

    print("=== bert_legacy ===")
    src_dir = os.path.join(OUT_ROOT, "bert", "model")
    out_dir = os.path.join(OUT_ROOT, "bert_legacy")
    model_dir = os.path.join(out_dir, "model")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(model_dir)

    original = load_file(os.path.join(src_dir, "model.safetensors"))
    # An OrderedDict, like every torch.save(model.state_dict()) checkpoint (without the
    # `_metadata` attribute), in sorted key order; each tensor float32, contiguous, with
    # its own storage.
    legacy = collections.OrderedDict()
    for name in sorted(original):
        new = legacy_key(name)
        assert new not in legacy, f"key collision: {new}"
        legacy[new] = original[name].detach().to(torch.float32).contiguous().clone()
    assert len(legacy) == len(original)
    assert not any(k.startswith("bert.") for k in legacy)
    assert not any(k.endswith("LayerNorm.weight") or k.endswith("LayerNorm.bias") for k in legacy)
    bin_path = os.path.join(model_dir, "pytorch_model.bin")
    torch.save(legacy, bin_path, _use_new_zipfile_serialization=True)

    for fname in ["config.json", "vocab.txt", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(src_dir, fname), os.path.join(model_dir, fname))

    # ---- checks ---------------------------------------------------------
    assert sorted(os.listdir(model_dir)) == ["config.json", "pytorch_model.bin", "tokenizer_config.json", "vocab.txt"]
    loaded = torch.load(bin_path, map_location="cpu", weights_only=True)
    assert list(loaded) == list(legacy)
    restored = {unlegacy_key(k): v for k, v in loaded.items()}
    assert sorted(restored) == sorted(original), "key sets differ after undoing the renames"
    for name, ref in original.items():
        got = restored[name]
        assert got.dtype == torch.float32 and got.is_contiguous(), name
        assert got.shape == ref.shape and torch.equal(got, ref), f"{name}: tensor differs"
    n_ln = sum(1 for k in loaded if k.endswith(".LayerNorm.gamma") or k.endswith(".LayerNorm.beta"))

    # The restored tensors, in a model built from the copied config, give bert's golden
    # logits exactly; the tokenizer built from vocab.txt + tokenizer_config.json alone
    # gives bert's golden ids.
    tok = AutoTokenizer.from_pretrained(model_dir)
    enc = encode(tok, bert_golden["texts"], "bert")
    for k, v in bert_golden["encoded"].items():
        assert to_lists(enc[k]) == v, f"bert_legacy: vocab.txt tokenizer gives different {k}"
    for b in bert_golden["train"]["batches"]:
        e = encode(tok, b["texts"], "bert")
        assert to_lists(e["input_ids"]) == b["input_ids"], "bert_legacy: vocab.txt tokenizer differs on a train batch"
    cfg = BertConfig.from_pretrained(model_dir)
    cfg._attn_implementation = "eager"
    model = BertForSequenceClassification(cfg)
    missing, unexpected = model.load_state_dict(restored, strict=False)
    assert not unexpected, unexpected
    assert not [m for m in missing if not m.endswith("position_ids") and "token_type_ids" not in m], missing
    diff = (logits_of(model, enc) - torch.tensor(bert_golden["logits"])).abs().max().item()
    assert diff == 0.0, f"bert_legacy: logits differ from bert's by {diff}"
    print(
        f"  {len(loaded)} tensors ({n_ln} LayerNorm gamma/beta) equal bert/model.safetensors after undoing "
        f"the renames; vocab.txt tokenizer ids match; logits max|diff|={diff:.3g}"
    )


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT_ROOT, exist_ok=True)
    archs = sys.argv[1:] or ARCHS
    assert all(a in ARCHS for a in archs), f"unknown architecture in {archs}; known: {ARCHS}"
    goldens = {}
    for arch in archs:
        goldens[arch] = run_arch(arch)
    for arch, g in goldens.items():
        sanity_check(arch, g)
    import safetensors
    import tokenizers

    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "seed": SEED,
    }
    with open(os.path.join(OUT_ROOT, "versions.json"), "w", encoding="utf-8") as f:
        json.dump(versions, f, indent=1)
        f.write("\n")
    print("versions:", versions)
    if "bert" in goldens:
        make_bert_legacy(goldens["bert"])


if __name__ == "__main__":
    main()
