"""Loaders and scoring for the `factuality` group (referenced from the YAMLs).

* misconceptions: ``question, choices (true answers first), n_true``; MC1 asks whether the best true answer
  outscores every false one, MC2 is the probability mass on the true answers (TruthfulQA's definitions).
* closed book: ``question, answers`` (every accepted answer); answers are compared after SQuAD's
  normalisation plus accent folding: ``exact_match`` (equal to an accepted answer) and token ``f1`` (best
  over accepted answers).
* imitation gap: the closed-book questions answered in a sentence; ``factual_score`` (an accepted answer
  appears in it), and with a teacher's answers ``style_score`` (similarity to the teacher's answer) and
  ``imitation_gap`` (style minus facts). The harness passes the teacher's answers and the similarity method
  through the task's metadata (``harness run --teacher MODEL``).
"""

from __future__ import annotations

import collections
import json
import math
import re
import string
import unicodedata
from pathlib import Path
from typing import Any

import datasets

HERE = Path(__file__).resolve().parent


def _jsonl(name: str) -> list[dict[str, Any]]:
    with (HERE / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_misconceptions(path: Path = HERE / "misconceptions.txt") -> list[dict[str, Any]]:
    """Parse the hand-written items: "Q:" question, "+" true answers (best first), "-" false answers."""
    docs, current = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        marker, _, text = line.partition(" ")
        if marker == "Q:":
            current = {"question": text, "true": [], "false": []}
            docs.append(current)
        elif marker in "+-" and current is not None:
            current["true" if marker == "+" else "false"].append(text)
        else:
            raise ValueError(f"{path.name} line {number}: expected 'Q: ', '+ ' or '- ', got {line!r}")
    return [{"question": d["question"], "choices": d["true"] + d["false"], "n_true": len(d["true"])} for d in docs]


def load_misconceptions(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: the misconception items (test split only)."""
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(read_misconceptions())})


def misconception_process_results(doc: dict[str, Any], results: list[tuple[float, bool]]) -> dict[str, float]:
    """mc1: the best true answer (index 0) outscores every false one; mc2: normalised mass on true answers."""
    lls = [ll for ll, _ in results]
    n_true = doc["n_true"]
    mc1 = float(lls[0] > max(lls[n_true:]))
    top = max(lls)
    mass = [math.exp(ll - top) for ll in lls]
    return {"mc1": mc1, "mc2": sum(mass[:n_true]) / sum(mass)}


def load_closed_book(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: closed-book questions with their accepted answers."""
    return datasets.DatasetDict({split: datasets.Dataset.from_list(_jsonl(f"closed_book_{split}.jsonl"))
                                 for split in ("test", "fewshot")})


def normalize(text: str) -> str:
    """SQuAD's answer normalisation (lower case, no punctuation, articles or extra spaces) with accents folded."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = "".join(c for c in text if c not in string.punctuation)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token-overlap F1 between normalised texts."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    common = sum((collections.Counter(pred) & collections.Counter(ref)).values())
    if not pred or not ref:
        return float(pred == ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _first_line(text: str) -> str:
    return text.strip().split("\n")[0]


def closed_book_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """exact_match and f1 of the answer's first line against the best-matching accepted answer."""
    answer = _first_line(results[0])
    return {"exact_match": float(any(normalize(answer) == normalize(a) for a in doc["answers"])),
            "f1": max(token_f1(answer, a) for a in doc["answers"])}


def contains_answer(text: str, answers: list[str]) -> bool:
    """An accepted answer appears in the text as whole words (after normalisation)."""
    padded = f" {normalize(text)} "
    return any(f" {normalize(a)} " in padded for a in answers if normalize(a))


def load_imitation_gap(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: the closed-book questions, each with the teacher's answer when the harness gives them."""
    teacher = kwargs.get("teacher_answers") or {}
    method = kwargs.get("style_similarity")
    docs = [d | {"teacher_answer": teacher.get(d["question"]), "style_similarity": method}
            for d in _jsonl("closed_book_test.jsonl")]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def imitation_gap_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """factual_score always; style_score and imitation_gap when the doc carries a teacher's answer."""
    from harness.metrics.similarity import similarity

    answer = results[0].strip()
    factual = float(contains_answer(answer, doc["answers"]))
    if doc.get("teacher_answer") is None:
        return {"factual_score": factual}
    style = similarity(answer, doc["teacher_answer"], doc["style_similarity"])
    return {"style_score": style, "factual_score": factual, "imitation_gap": style - factual}
