"""Readers for public financial datasets in their own file formats.

Each reader returns docs in the schema of the matching ``finance`` task (see
``tasks/finance/utils.py``):

* sentiment (PhraseBank, FiQA): ``id, sentence, label (0 negative / 1 neutral / 2 positive),
  label_text``
* numeric (FinQA, ConvFinQA): ``id, pre_text, table, post_text, question, answer (float),
  answer_str, program, qtype``

Choices made here:

* FiQA 2018 task 1: a record's ``sentiment_score`` values (strings or numbers in [-1, 1]) are
  averaged over its ``info`` entries (one sentence may name several targets); the mean is
  negative when < -0.1, positive when > 0.1, neutral otherwise (|score| <= 0.1).
* FinQA: ``answer`` is ``qa.exe_ans``; when the display answer ``qa.answer`` contains "%" and
  ``exe_ans`` is the fraction (0.141 for "14.1%"), it is multiplied by 100 so the gold value is
  in the unit the question is answered in. Records whose ``exe_ans`` is not numeric (the
  yes/no comparison questions) are skipped.
* ConvFinQA: the final turn is used. With ``annotation`` the question is
  ``dialogue_break[-1]``, the answer ``exe_ans_list[-1]`` and the program
  ``turn_program[-1]``; the earlier turns and their executed answers are put before the final
  question so it can be resolved. Without ``annotation`` the last of ``qa`` / ``qa_0``, ``qa_1``
  ... (highest index) is used as a standalone question. ConvFinQA answers are kept as executed
  (ratios are not converted to percent); conversations whose final answer is not numeric are
  skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SENTIMENT_LABELS = ("negative", "neutral", "positive")
FIQA_NEGATIVE_BELOW = -0.1
FIQA_POSITIVE_ABOVE = 0.1

_NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def _sentiment_doc(doc_id: str, sentence: str, label_text: str) -> dict[str, Any]:
    return {"id": doc_id, "sentence": sentence, "label": SENTIMENT_LABELS.index(label_text),
            "label_text": label_text}


def read_phrasebank(path: str | Path) -> list[dict[str, Any]]:
    """Read a Financial PhraseBank file (latin-1 lines ``sentence@label``) into sentiment docs."""
    docs = []
    text = Path(path).read_text(encoding="latin-1")
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        sentence, sep, label = line.rpartition("@")
        label = label.strip().lower()
        if not sep or not sentence.strip():
            raise ValueError(f"{path}:{lineno}: expected 'sentence@label', got {line[:80]!r}")
        if label not in SENTIMENT_LABELS:
            raise ValueError(f"{path}:{lineno}: unknown label {label!r} (expected one of {SENTIMENT_LABELS})")
        docs.append(_sentiment_doc(f"phrasebank-{len(docs):05d}", sentence.strip(), label))
    if not docs:
        raise ValueError(f"{path}: no 'sentence@label' lines found")
    return docs


def fiqa_score_to_label(score: float) -> str:
    """Map a FiQA sentiment score in [-1, 1] to negative (< -0.1) / neutral / positive (> 0.1)."""
    if score < FIQA_NEGATIVE_BELOW:
        return "negative"
    if score > FIQA_POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def _load_json(path: str | Path) -> Any:
    try:
        with Path(path).open(encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err


def read_fiqa_sentiment(path: str | Path) -> list[dict[str, Any]]:
    """Read a FiQA 2018 task-1 sentiment JSON file (object keyed by id) into sentiment docs."""
    data = _load_json(path)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a non-empty JSON object keyed by record id")
    docs = []
    for key, rec in data.items():
        where = f"{path}: record {key!r}"
        if not isinstance(rec, dict) or not isinstance(rec.get("sentence"), str):
            raise ValueError(f"{where}: expected an object with a 'sentence' string")
        info = rec.get("info")
        if not isinstance(info, list) or not info:
            raise ValueError(f"{where}: 'info' must be a non-empty list")
        scores = []
        for entry in info:
            try:
                score = float(entry["sentiment_score"])
            except (TypeError, KeyError, ValueError) as err:
                raise ValueError(f"{where}: each info entry needs a numeric 'sentiment_score'") from err
            if not -1.0 <= score <= 1.0:
                raise ValueError(f"{where}: sentiment_score {score} outside [-1, 1]")
            scores.append(score)
        label = fiqa_score_to_label(sum(scores) / len(scores))
        docs.append(_sentiment_doc(f"fiqa-{key}", rec["sentence"].strip(), label))
    return docs


def _number(value: Any, where: str) -> float | None:
    """A float from a number or numeric string; None for non-numeric strings like 'yes'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    raise ValueError(f"{where}: answer must be a number or string, got {type(value).__name__}")


def _format_number(x: float) -> str:
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.4f}"


def _text(value: Any, field: str, where: str) -> str:
    """Join a FinQA pre_text/post_text list (or accept a string)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return " ".join(s.strip() for s in value if s.strip())
    raise ValueError(f"{where}: '{field}' must be a list of strings")


def _table(value: Any, where: str) -> list[list[str]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise ValueError(f"{where}: 'table' must be a list of rows (lists)")
    return [[str(cell) for cell in row] for row in value]


def _context(rec: Any, where: str) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise ValueError(f"{where}: expected a JSON object")
    for field in ("pre_text", "post_text", "table"):
        if field not in rec:
            raise ValueError(f"{where}: missing '{field}'")
    return {"pre_text": _text(rec["pre_text"], "pre_text", where), "table": _table(rec["table"], where),
            "post_text": _text(rec["post_text"], "post_text", where)}


def _numeric_doc(ctx: dict[str, Any], doc_id: str, question: str, answer: float,
                 answer_str: str, program: str, qtype: str) -> dict[str, Any]:
    return {"id": doc_id, **ctx, "question": question.strip(), "answer": answer,
            "answer_str": answer_str, "program": program, "qtype": qtype}


def _records(path: str | Path) -> list[Any]:
    data = _load_json(path)
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty JSON list of records")
    return data


def _qa(rec: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    qa = rec.get(key)
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or "exe_ans" not in qa:
        raise ValueError(f"{where}: '{key}' must be an object with 'question' and 'exe_ans'")
    return qa


def read_finqa(path: str | Path) -> list[dict[str, Any]]:
    """Read a FinQA JSON list (pre_text, post_text, table, qa) into numeric docs."""
    docs = []
    for i, rec in enumerate(_records(path)):
        where = f"{path}: record {i}"
        ctx = _context(rec, where)
        qa = _qa(rec, "qa", where)
        answer = _number(qa["exe_ans"], where)
        if answer is None:
            continue  # yes/no comparison question: not scorable as a number
        shown = str(qa.get("answer") or "").strip()
        match = _NUM.search(shown)
        if "%" in shown and match and answer != 0:
            target = float(match.group().replace(",", ""))
            if abs(answer * 100 - target) < abs(answer - target):
                answer *= 100
        program = qa.get("program", "")
        docs.append(_numeric_doc(ctx, str(rec.get("id", f"finqa-{i}")), qa["question"], answer,
                                 shown or _format_number(answer),
                                 program if isinstance(program, str) else "", "finqa"))
    if not docs:
        raise ValueError(f"{path}: no record has a numeric 'exe_ans'")
    return docs


def _convfinqa_turns(rec: dict[str, Any], where: str) -> tuple[str, float | None, str]:
    """(question with earlier turns, final answer or None if not numeric, final program)."""
    ann = rec["annotation"]
    turns = ann.get("dialogue_break") if isinstance(ann, dict) else None
    answers = ann.get("exe_ans_list") if isinstance(ann, dict) else None
    if (not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns)
            or not isinstance(answers, list) or len(answers) != len(turns)):
        raise ValueError(f"{where}: 'annotation' needs non-empty 'dialogue_break' (strings) and "
                         f"'exe_ans_list' of equal length")
    values = [_number(a, where) for a in answers]
    history = [f"Earlier question: {q.strip()} Answer: {a if v is None else _format_number(v)}"
               for q, a, v in zip(turns[:-1], answers[:-1], values[:-1])]
    programs = ann.get("turn_program")
    program = programs[-1] if isinstance(programs, list) and programs and isinstance(programs[-1], str) else ""
    return "\n".join(history + [turns[-1].strip()]), values[-1], program


def read_convfinqa(path: str | Path) -> list[dict[str, Any]]:
    """Read a ConvFinQA JSON list into numeric docs, one per conversation (its final turn)."""
    docs = []
    for i, rec in enumerate(_records(path)):
        where = f"{path}: record {i}"
        ctx = _context(rec, where)
        if "annotation" in rec:
            question, answer, program = _convfinqa_turns(rec, where)
            shown = ""
        else:
            keys = sorted((k for k in rec if re.fullmatch(r"qa(_\d+)?", k)),
                          key=lambda k: -1 if k == "qa" else int(k[3:]))
            if not keys:
                raise ValueError(f"{where}: needs 'annotation' or a 'qa' / 'qa_N' object")
            qa = _qa(rec, keys[-1], where)
            question, answer = qa["question"], _number(qa["exe_ans"], where)
            shown = str(qa.get("answer") or "").strip()
            program = qa["program"] if isinstance(qa.get("program"), str) else ""
        if answer is None:
            continue  # yes/no comparison turn: not scorable as a number
        docs.append(_numeric_doc(ctx, str(rec.get("id", f"convfinqa-{i}")), question, answer,
                                 shown or _format_number(answer), program, "convfinqa"))
    if not docs:
        raise ValueError(f"{path}: no conversation has a numeric final answer")
    return docs
