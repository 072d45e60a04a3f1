"""Loaders, prompts and scoring for the `finance` task group (referenced from the YAMLs).

Doc schemas (shared with the public-format readers in ``harness.text.finance_formats``):

* sentiment: ``id, sentence, label (0 negative / 1 neutral / 2 positive), label_text``
* numeric:   ``id, pre_text, table (rows of cell strings, first row = header), post_text,
  question, answer (float), answer_str (display, 2 decimals + unit), program (FinQA DSL), qtype``
* headline:  ``id, headline, question, question_key, label (0 No / 1 Yes), label_text``

Numeric scoring: :func:`extract_number` reads the prediction, :func:`is_correct` compares it
to ``answer`` with a relative tolerance of 1e-2 (absolute 0.01 when the answer is 0).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import datasets

HERE = Path(__file__).resolve().parent
SENTIMENT_CHOICES = ["negative", "neutral", "positive"]
HEADLINE_CHOICES = ["No", "Yes"]
REL_TOL = 1e-2
ABS_TOL = 1e-2

SENTIMENT_FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "sentence": datasets.Value("string"),
    "label": datasets.Value("int64"),
    "label_text": datasets.Value("string"),
})
NUMERIC_FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "pre_text": datasets.Value("string"),
    "table": datasets.Sequence(datasets.Sequence(datasets.Value("string"))),
    "post_text": datasets.Value("string"),
    "question": datasets.Value("string"),
    "answer": datasets.Value("float64"),
    "answer_str": datasets.Value("string"),
    "program": datasets.Value("string"),
    "qtype": datasets.Value("string"),
})
HEADLINE_FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "headline": datasets.Value("string"),
    "question": datasets.Value("string"),
    "question_key": datasets.Value("string"),
    "label": datasets.Value("int64"),
    "label_text": datasets.Value("string"),
})


# --------------------------------------------------------------------------- datasets


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read one JSON object per non-empty line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def to_dataset(docs: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    """Build an in-memory Dataset with a fixed schema (keys outside the schema are an error)."""
    names = set(features)
    for doc in docs:
        if set(doc) != names:
            raise ValueError(f"doc {doc.get('id')!r} has keys {sorted(doc)}, expected {sorted(names)}")
    return datasets.Dataset.from_list(docs, features=features)


def _load(prefix: str, features: datasets.Features) -> datasets.DatasetDict:
    return datasets.DatasetDict({
        split: to_dataset(read_jsonl(HERE / f"{prefix}_{split}.jsonl"), features)
        for split in ("test", "train")
    })


def load_sentiment(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_sentiment (kwargs = task metadata, ignored)."""
    return _load("sentiment", SENTIMENT_FEATURES)


def load_numeric(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_numeric (kwargs = task metadata, ignored)."""
    return _load("numeric", NUMERIC_FEATURES)


def load_headline(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_headline (kwargs = task metadata, ignored)."""
    return _load("headline", HEADLINE_FEATURES)


# --------------------------------------------------------------------------- prompts


def format_table(table: list[list[str]]) -> str:
    """Render table rows as pipe-separated lines."""
    return "\n".join("| " + " | ".join(cell.strip() for cell in row) + " |" for row in table)


def numeric_doc_to_text(doc: dict[str, Any]) -> str:
    """Passage, table and question, ending in 'Answer:'."""
    parts = [doc["pre_text"].strip(), format_table(doc["table"]), doc["post_text"].strip()]
    context = "\n\n".join(p for p in parts if p)
    return f"{context}\n\nQuestion: {doc['question'].strip()}\nAnswer:"


# --------------------------------------------------------------------------- scoring

_ANSWER_PHRASE = re.compile(r"\banswer\s*(?:is|:|=)", re.IGNORECASE)
# Optional sign (not glued to a preceding word/number, so "2008-2009" gives 2008 then 2009),
# optional "$", then digits with optional thousands commas and decimals.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+\u2212]?)\s?\$?\s?(?P<sign2>[-\u2212]?)"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
)


def _first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    value = float(match.group("num").replace(",", ""))
    negative = (match.group("sign") in ("-", "\u2212")) != (match.group("sign2") in ("-", "\u2212"))
    return -value if negative else value


def extract_number(text: str) -> float | None:
    """The predicted number in a generation, or None.

    Rule: the first number after the first "answer is" / "answer:" / "answer =" phrase that is
    followed by a number; otherwise the first number in the text. "$", thousands commas and a
    trailing "%" are ignored ("$1,234.5" -> 1234.5, "12.5%" -> 12.5); a leading "-" (or U+2212)
    makes it negative. Scale words ("million") are not applied.
    """
    for phrase in _ANSWER_PHRASE.finditer(text):
        value = _first_number(text[phrase.end():])
        if value is not None:
            return value
    return _first_number(text)


def is_correct(pred: float | None, gold: float) -> bool:
    """|pred - gold| <= 1e-2 * |gold|, or |pred| <= 0.01 when gold == 0."""
    if pred is None:
        return False
    if gold == 0:
        return abs(pred) <= ABS_TOL
    return abs(pred - gold) <= REL_TOL * abs(gold)


def extract_number_filter(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[float | None]]:
    """lm-eval filter: each generation becomes the number extracted from it (the scored prediction)."""
    return [[extract_number(text) for text in generations] for generations in resps]


def numeric_process_results(doc: dict[str, Any], results: list[float | str | None]) -> dict[str, float]:
    """exact_match = 1.0 when the extracted number matches doc['answer'] within tolerance."""
    pred = results[0]
    if isinstance(pred, str):  # unfiltered generation (e.g. a YAML without the filter)
        pred = extract_number(pred)
    return {"exact_match": float(is_correct(pred, float(doc["answer"])))}
