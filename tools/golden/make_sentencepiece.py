"""Dev-only: writes the SentencePiece fixtures under tests/fixtures/sentencepiece/.

- spm.model: a tiny SentencePiece Unigram model (vocab 300, normaliser nmt_nfkc so the
  precompiled character map is exercised) with DeBERTa-v3's pieces [PAD] 0, [CLS] 1,
  [SEP] 2, [UNK] 3, trained here on generated support-ticket sentences.
- ids.json: for ~20 varied texts, the ids of the tokenizer transformers'
  DebertaV2Converter builds from spm.model (with DeBERTa's special tokens added as
  transformers adds them: [MASK] after the pieces) -- what the Rust conversion must
  give -- and, for comparison, the ids SentencePiece itself gives (the slow tokenizer's
  segmentation, [CLS] ... [SEP] around it) and the ids transformers' AutoTokenizer
  gives from a folder holding only spm.model.
- golden_deberta_spm.model: the vocabulary of tests/fixtures/golden/deberta_v2 as a
  SentencePiece model (identity normaliser), so that the golden DeBERTa model can be
  loaded from spm.model alone and its logits compared with transformers'.

Needs: torch-free transformers, tokenizers, sentencepiece and protobuf. Run:
    PYTHONPATH=/tmp/sp bench/.venv/bin/python tools/golden/make_sentencepiece.py
"""

import itertools
import io
import json
import pathlib
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2
import tokenizers
import transformers
from tokenizers import AddedToken
from transformers import AutoTokenizer
from transformers.convert_slow_tokenizer import DebertaV2Converter

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "sentencepiece"
GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "deberta_v2" / "model"

VOCAB_SIZE = 300
# DeBERTa-v3's special tokens in transformers' order; [MASK] is not an spm piece.
SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]

SUBJECTS = ["The app", "My account", "The export", "Sync", "The café menu", "Login",
            "The résumé upload", "Billing", "Zürich office", "The naïve search"]
PROBLEMS = ["crashes when I click save", "does not load on my phone",
            "shows a blank page after the update", "is very slow since Monday",
            "charges me twice every month", "logs me out without warning"]
ASKS = ["Please fix it soon.", "Can you add dark mode?", "How do I reset my password?",
        "Thanks for the quick help!", "Is there a refund?", "東京のサポートに連絡しました。"]


WORDS = """account address admin alert android answer archive attachment backup balance
bank battery browser bug calendar camera cancel card cart charge chat checkout
client cloud code comment connection contact cookie copy coupon crash customer
dashboard database date delete delivery desktop device discount document domain
download draft email error event export feature file filter folder font form
gateway graph group help history holiday import inbox install integration invoice
keyboard language laptop layout license link list location lock login message
mobile monitor network notification order package page password payment photo
plan printer privacy profile purchase receipt refund register report request
reset review schedule screen search security server setting shipping signature
storage subscription support sync table tablet team template theme ticket timeout
token transfer translation update upgrade upload user version video wallet window
workflow""".split()


def corpus():
    """Template sentences, then every word of WORDS in pseudo-random sentences."""
    lines = [f"{s} {p}. {a}" for s, p, a in itertools.product(SUBJECTS, PROBLEMS, ASKS)]
    state = 12345
    for _ in range(600):
        words = []
        for _ in range(8):
            state = (state * 1103515245 + 12345) % 2**31
            words.append(WORDS[state % len(WORDS)])
        lines.append(" ".join(words).capitalize() + ".")
    return lines


TEXTS = [
    "The app crashes when I click save.",
    "",
    "   leading and trailing spaces   ",
    "many     spaces\tand a tab\nand a newline",
    "Café, naïve résumé, Zürich, Ångström",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ letters",
    "ﬁne ligatures and ① circled ½ fractions",
    "emoji 😀🔥 and a heart ❤️",
    "unknown characters: ξψω ☃ ∰ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "東京のサポートに連絡しました。",
    "한국어 텍스트와 中文 混合",
    "supercalifragilisticexpialidociousnessly-unbelievable-words",
    "UPPER CASE SHOUTING ABOUT BILLING",
    "punctuation!!! ... ??? --- (brackets) [square] {curly}",
    "numbers 3.14159 and 2,718 and 1e-10",
    "a [MASK] in the text and [CLS] too",
    "control\u0000char and zero\u200bwidth and soft\u00adhyphen",
    "combining e\u0301 and precomposed é",
    "   ",
    "Sync is very slow since Monday. Is there a refund?",
]


def train(path):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        normalization_rule_name="nmt_nfkc",
        character_coverage=1.0,
        pad_id=0, pad_piece="[PAD]",
        bos_id=1, bos_piece="[CLS]",
        eos_id=2, eos_piece="[SEP]",
        unk_id=3, unk_piece="[UNK]",
        num_threads=1,
        minloglevel=2,
    )
    path.write_bytes(model.getvalue())


class SlowStandIn:
    """What DebertaV2Converter reads from transformers' slow DebertaV2Tokenizer
    (which transformers 5 no longer ships): the spm file and the tokenizer_config
    defaults (do_lower_case, split_by_punct false; add_prefix_space true)."""

    def __init__(self, path, ids):
        self.vocab_file = str(path)
        self.do_lower_case = False
        self.split_by_punct = False
        self.add_prefix_space = True
        self._ids = ids

    def convert_tokens_to_ids(self, token):
        return self._ids[token]


def converted(path):
    sp = spm.SentencePieceProcessor(model_file=str(path))
    ids = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    tok = DebertaV2Converter(SlowStandIn(path, ids)).converted()
    # PreTrainedTokenizerFast adds the slow tokenizer's special tokens after converting.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    return tok


def sentencepiece_ids(sp, text):
    return [1] + sp.encode(text) + [2]


def golden_spm(path):
    """The golden DeBERTa vocabulary (less [MASK], added after the pieces) as an spm."""
    vocab = json.loads((GOLDEN / "tokenizer.json").read_text())["model"]["vocab"]
    proto = model_pb2.ModelProto()
    for piece, score in vocab:
        if piece == "[MASK]":
            continue
        kind = {"[PAD]": 3, "[CLS]": 3, "[SEP]": 3, "[UNK]": 2}.get(piece, 1)
        proto.pieces.add(piece=piece, score=score, type=kind)
    proto.trainer_spec.model_type = 1
    proto.trainer_spec.unk_id = 3
    proto.normalizer_spec.name = "identity"
    path.write_bytes(proto.SerializeToString())


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model_path = OUT / "spm.model"
    train(model_path)
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    tok = converted(model_path)
    with tempfile.TemporaryDirectory() as folder:
        (pathlib.Path(folder) / "spm.model").write_bytes(model_path.read_bytes())
        (pathlib.Path(folder) / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": "DebertaV2Tokenizer", "do_lower_case": False})
        )
        auto = AutoTokenizer.from_pretrained(folder)
    cases = []
    for text in TEXTS:
        enc = tok.encode(text)
        cases.append({
            "text": text,
            "ids": enc.ids,
            "tokens": enc.tokens,
            "sentencepiece_ids": sentencepiece_ids(sp, text),
            "transformers_from_spm_ids": auto(text)["input_ids"],
        })
    out = {
        "pieces": sp.get_piece_size(),
        "mask_id": tok.token_to_id("[MASK]"),
        "versions": {
            "sentencepiece": spm.__version__,
            "tokenizers": tokenizers.__version__,
            "transformers": transformers.__version__,
        },
        "cases": cases,
    }
    (OUT / "ids.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    golden_spm(OUT / "golden_deberta_spm.model")

    differ = [c["text"] for c in cases if c["ids"] != c["sentencepiece_ids"]]
    auto_differ = [c["text"] for c in cases if c["ids"] != c["transformers_from_spm_ids"]]
    print(f"{len(cases)} texts, {sp.get_piece_size()} pieces, [MASK] = {out['mask_id']}")
    print(f"converter vs SentencePiece differ on {len(differ)}: {differ}")
    print(f"converter vs AutoTokenizer(spm.model) differ on {len(auto_differ)}: {auto_differ}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
