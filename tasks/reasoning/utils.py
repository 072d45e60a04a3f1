"""Loaders, answer extraction and scoring for the `reasoning` group (referenced from the YAMLs).

Puzzle docs: ``context, question, options, gold (index), options_text ("(A) ..." lines), gold_letter``.
Arithmetic docs: ``question, answer (int), kind``.

Chain-of-thought answers are read by :func:`extract_choice` (a letter) and :func:`extract_answer` (a number).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import datasets

HERE = Path(__file__).resolve().parent


def _load(prefix: str) -> datasets.DatasetDict:
    splits = {}
    for split in ("test", "fewshot"):
        with (HERE / f"{prefix}_{split}.jsonl").open(encoding="utf-8") as fh:
            splits[split] = datasets.Dataset.from_list([json.loads(line) for line in fh if line.strip()])
    return datasets.DatasetDict(splits)


def load_logical_deduction(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: orderings of books on a shelf and runners in a race."""
    return _load("logical_deduction")


def load_date(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: date arithmetic in MM/DD/YYYY."""
    return _load("date")


def load_tracking(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: who holds which ball after a sequence of swaps."""
    return _load("tracking")


def load_navigate(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: does a walk of steps and turns return to its start."""
    return _load("navigate")


def load_arithmetic(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset: GSM-style word problems with integer answers."""
    return _load("arithmetic")


# --------------------------------------------------------------------------- choices

_CHOICE_PHRASE = re.compile(r"answer\s*(?:is|:)\s*:?\s*\(?([A-G])\)?(?![\w])", re.IGNORECASE)
_PAREN_LETTER = re.compile(r"\(([A-G])\)")


def extract_choice(text: str, options: list[str]) -> str | None:
    """The chosen letter: after "answer is" / "answer:", else the last "(X)", else the last option quoted."""
    found = _CHOICE_PHRASE.findall(text)
    if found:
        return found[-1].upper()
    found = _PAREN_LETTER.findall(text)
    if found:
        return found[-1]
    lowered = text.lower()
    positions = [(lowered.rfind(option.lower().rstrip(".")), i) for i, option in enumerate(options)]
    position, index = max(positions)
    return "ABCDEFG"[index] if position >= 0 else None


def extract_choice_filter(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[str | None]]:
    """lm-eval filter: each generation becomes the letter it chose."""
    return [[extract_choice(text, doc["options"]) for text in generations] for generations, doc in zip(resps, docs)]


def choice_process_results(doc: dict[str, Any], results: list[str | None]) -> dict[str, float]:
    """exact_match = 1.0 when the extracted letter is the gold letter."""
    return {"exact_match": float(results[0] == doc["gold_letter"])}


# --------------------------------------------------------------------------- numbers

_ANSWER_IS = re.compile(r"answer\s*(?:is|:|=)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(-?)\$?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")


def extract_answer(text: str) -> float | None:
    """The number after the last "The answer is" (or "answer:"); else the last number in the text.

    Thousands commas and "$" are ignored ("$1,250" -> 1250); a trailing full stop is not a decimal point.
    """
    phrases = list(_ANSWER_IS.finditer(text))
    if phrases:
        after = _NUMBER.search(text, phrases[-1].end())
        if after is not None:
            return _value(after)
    numbers = list(_NUMBER.finditer(text))
    return _value(numbers[-1]) if numbers else None


def _value(match: re.Match) -> float:
    value = float(match.group(2).replace(",", ""))
    return -value if match.group(1) else value


def extract_answer_filter(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[float | None]]:
    """lm-eval filter: each generation becomes its extracted number."""
    return [[extract_answer(text) for text in generations] for generations in resps]


def arithmetic_process_results(doc: dict[str, Any], results: list[float | None]) -> dict[str, float]:
    """exact_match = 1.0 when the extracted number equals the integer answer."""
    prediction = results[0]
    return {"exact_match": float(prediction is not None and abs(prediction - doc["answer"]) < 1e-9)}
