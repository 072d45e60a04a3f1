"""Deterministically generate the memorization corpus: short company reports, one document per line.

The first ``TRAINED`` documents are what ``tiny-pythia``'s local revisions are trained on (its
``stepN`` checkpoints); the rest are held out, so memorization can be compared against documents a
model never saw. Run ``python tasks/memorization/generate.py`` to rewrite ``corpus.jsonl``
(byte-identical on every run); ``--out-dir DIR`` writes it elsewhere.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20230403  # Pythia's paper, April 2023
HERE = Path(__file__).resolve().parent
DOCUMENTS = 64
TRAINED = 48

COMPANIES = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure Works", "Wingtip", "Proseware",
             "Lucerne", "Margie's Travel", "Alpine Ski House", "Coho Winery", "Humongous Insurance", "Trey Research"]
METRICS = ["revenue", "operating income", "net income", "free cash flow", "gross margin", "backlog", "capital spending"]
DIVISIONS = ["cloud", "retail", "logistics", "consumer devices", "advertising", "freight", "insurance", "energy"]
CITIES = ["Oslo", "Lima", "Osaka", "Accra", "Perth", "Quito", "Turin", "Hanoi", "Tallinn", "Cork", "Recife"]
MOVES = ["rose", "fell", "climbed", "slipped", "jumped", "declined"]


def _sentence(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return (f"{rng.choice(COMPANIES)} said {rng.choice(METRICS)} {rng.choice(MOVES)} {rng.randint(2, 48)} percent "
                f"to {rng.randint(11, 990)} million dollars in {rng.randint(2004, 2023)}.")
    if kind == 1:
        return (f"The {rng.choice(DIVISIONS)} unit opened an office in {rng.choice(CITIES)} and hired "
                f"{rng.randint(12, 900)} people.")
    if kind == 2:
        return (f"Analysts expect {rng.choice(METRICS)} of {rng.randint(3, 75)}.{rng.randint(0, 9)} billion "
                f"dollars after the {rng.choice(DIVISIONS)} sale.")
    return (f"Its chief executive, based in {rng.choice(CITIES)}, plans to cut costs by {rng.randint(5, 30)} "
            f"percent by {rng.randint(2024, 2030)}.")


def corpus() -> list[dict]:
    """The documents, each with ``id``, ``text`` and whether tiny-pythia trains on it."""
    rng = random.Random(SEED)
    docs = []
    for i in range(DOCUMENTS):
        text = " ".join(_sentence(rng) for _ in range(6))
        docs.append({"id": i, "text": text, "trained": i < TRAINED})
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    out = parser.parse_args().out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus()), encoding="utf-8")


if __name__ == "__main__":
    main()
