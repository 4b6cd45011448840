"""A small multi-label ticket file for the E2E, made from the shared Banking77 data:
four intents; half the tickets are one ticket (one label), half are two tickets of
different intents joined (both labels, `;`-separated, as a "tags" column holds them).
Seeded, so every run trains on the same file.

    python3 e2e/make_multi_label.py ../shared/data/banking77_train.csv OUT.csv
"""

import csv
import random
import sys

INTENTS = ["card_arrival", "exchange_rate", "top_up_failed", "pending_transfer"]
SINGLE_PER_INTENT = 60
PAIRS = 240


def main(source: str, out: str) -> None:
    with open(source, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    by_intent = {i: [r["text"] for r in rows if r["label"] == i] for i in INTENTS}
    rng = random.Random(42)
    tickets = []
    for intent, texts in by_intent.items():
        tickets += [(t, [intent]) for t in rng.sample(texts, SINGLE_PER_INTENT)]
    for _ in range(PAIRS):
        a, b = rng.sample(INTENTS, 2)
        tickets.append((rng.choice(by_intent[a]) + " " + rng.choice(by_intent[b]), sorted([a, b])))
    rng.shuffle(tickets)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "tags"])
        for text, labels in tickets:
            w.writerow([text, ";".join(labels)])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
