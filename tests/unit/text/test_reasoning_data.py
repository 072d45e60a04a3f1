"""The reasoning data: reproducible, unique, and every answer re-derived by code independent of the generator
(parsing the item's text, not reading the generator's state)."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from harness.resources import tasks_dir
from tests.helpers import task_module

FOLDER = tasks_dir() / "reasoning"
PUZZLES = ["logical_deduction", "date", "tracking", "navigate"]


def _module(name: str):
    return task_module("reasoning", name)


def _docs(name: str, split: str = "test") -> list[dict]:
    return [json.loads(line) for line in (FOLDER / f"{name}_{split}.jsonl").read_text().splitlines()]


def test_the_committed_files_are_what_the_generator_writes(tmp_path):
    counts = _module("generate").generate(tmp_path)
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (FOLDER / path.name).read_bytes(), path.name
    assert all(counts[f"{p}_test"] >= 100 for p in PUZZLES) and counts["arithmetic_test"] >= 200


@pytest.mark.parametrize("name", [*PUZZLES, "arithmetic"])
def test_items_are_unique_and_few_shot_examples_are_not_test_items(name):
    key = (lambda d: d["context"] + d["question"]) if name != "arithmetic" else (lambda d: d["question"])
    test, shots = [key(d) for d in _docs(name)], [key(d) for d in _docs(name, "fewshot")]
    assert len(set(test)) == len(test) and not set(test) & set(shots)


# --------------------------------------------------------------------------- logical deduction

ORDINAL = {w: i for i, w in enumerate(["first", "second", "third", "fourth", "fifth", "sixth", "seventh"])}


def _solve_ordering(doc: dict) -> dict[str, int]:
    """Parse the clues and return the one ordering (name -> position from the left/top) they allow."""
    context = doc["context"]
    books = context.startswith("On a shelf")
    listed = re.search(r"(?:books|runners): (.*?)\.", context).group(1)
    names = [n.strip() for n in re.split(r",\s*(?:and\s+)?", listed)]
    names = [n.removeprefix("the ").removesuffix(" book") for n in names]
    clues = re.split(r"(?<=\.) ", context)[2:]
    rules = []
    for clue in clues:
        clue = clue.rstrip(".")
        if m := re.fullmatch(r"The (\w+) book is to the left of the (\w+) book", clue):
            rules.append(lambda p, a=m[1], b=m[2]: p[a] < p[b])
        elif m := re.fullmatch(r"The (\w+) book is the (\w+) from the (left|right)", clue):
            rules.append(lambda p, a=m[1], k=ORDINAL[m[2]], side=m[3]:
                         p[a] == (k if side == "left" else len(p) - 1 - k))
        elif m := re.fullmatch(r"(\w+) finished above (\w+)", clue):
            rules.append(lambda p, a=m[1], b=m[2]: p[a] < p[b])
        elif m := re.fullmatch(r"(\w+) finished (\w+) from the bottom", clue):
            rules.append(lambda p, a=m[1], k=ORDINAL[m[2]]: p[a] == len(p) - 1 - k)
        elif m := re.fullmatch(r"(\w+) finished last", clue):
            rules.append(lambda p, a=m[1]: p[a] == len(p) - 1)
        elif m := re.fullmatch(r"(\w+) finished (\w+)", clue):
            rules.append(lambda p, a=m[1], k=ORDINAL[m[2]]: p[a] == k)
        else:
            raise AssertionError(f"unparsed clue {clue!r}")
    solutions = []
    for perm in itertools.permutations(range(len(names))):
        positions = dict(zip(names, perm))
        if all(rule(positions) for rule in rules):
            solutions.append(positions)
    assert len(solutions) == 1, (books, doc["context"])
    return solutions[0]


def _option_holds(option: str, positions: dict[str, int]) -> bool:
    n = len(positions)
    if m := re.fullmatch(r"The (\w+) book is the (leftmost|rightmost|\w+ from the left)\.", option):
        where = m[2]
        wanted = 0 if where == "leftmost" else n - 1 if where == "rightmost" else ORDINAL[where.split()[0]]
        return positions[m[1]] == wanted
    m = re.fullmatch(r"(\w+) finished (\w+)\.", option)
    wanted = n - 1 if m[2] == "last" else ORDINAL[m[2]]
    return positions[m[1]] == wanted


def test_logical_deduction_answers_follow_from_the_clues():
    for doc in _docs("logical_deduction") + _docs("logical_deduction", "fewshot"):
        positions = _solve_ordering(doc)
        true = [i for i, option in enumerate(doc["options"]) if _option_holds(option, positions)]
        assert true == [doc["gold"]], doc


# --------------------------------------------------------------------------- dates

def _days(year: int, month: int, day: int) -> int:
    """Days since 0000-03-01 in the proleptic Gregorian calendar (no datetime)."""
    if month <= 2:
        year -= 1
    era_day = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return 365 * year + year // 4 - year // 100 + year // 400 + era_day


def _parse(text: str) -> int:
    month, day, year = map(int, text.split("/"))
    return _days(year, month, day)


def test_date_answers_are_right():
    for doc in _docs("date") + _docs("date", "fewshot"):
        today = _parse(re.search(r"Today is (\S+)\.", doc["context"]).group(1))
        phrase = re.search(r"the date (.*) in MM/DD/YYYY", doc["question"]).group(1)
        if phrase in ("yesterday", "tomorrow"):
            offset = -1 if phrase == "yesterday" else 1
        else:
            count, unit, direction = re.fullmatch(r"(\d+) (days|weeks) (ago|from today)", phrase).groups()
            offset = int(count) * (7 if unit == "weeks" else 1) * (-1 if direction == "ago" else 1)
        matching = [i for i, option in enumerate(doc["options"]) if _parse(option) == today + offset]
        assert matching == [doc["gold"]] and len(set(doc["options"])) == len(doc["options"]), doc


# --------------------------------------------------------------------------- tracking

def test_tracking_answers_follow_the_swaps():
    for doc in _docs("tracking") + _docs("tracking", "fewshot"):
        start = re.search(r"At the start, (.*?)\. (?:First|Finally)", doc["context"]).group(1)
        holding = dict(re.findall(r"(\w+) has (a \w+ ball)", start))
        for a, b in re.findall(r"(\w+) and (\w+) swap balls", doc["context"]):
            holding[a], holding[b] = holding[b], holding[a]
        asked = re.fullmatch(r"At the end of the game, (\w+) has", doc["question"]).group(1)
        assert doc["options"][doc["gold"]] == holding[asked], doc


# --------------------------------------------------------------------------- navigate

def test_navigate_answers_follow_the_walk():
    for doc in _docs("navigate") + _docs("navigate", "fewshot"):
        position, facing = 0j, 1j  # north
        for instruction in re.findall(r"(Take \d+ steps?|Turn left|Turn right|Turn around)\.", doc["context"]):
            if instruction.startswith("Take"):
                position += facing * int(instruction.split()[1])
            else:
                facing *= {"Turn left": 1j, "Turn right": -1j, "Turn around": -1}[instruction]
        assert doc["options"][doc["gold"]] == ("Yes" if position == 0 else "No"), doc


# --------------------------------------------------------------------------- arithmetic

def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def _solve_word_problem(question: str) -> float:
    n = _numbers(question)
    if "boxes of pencils" in question:
        return n[0] * n[1] - n[2]
    if "notebooks" in question:
        return n[2] - n[0] * n[1]
    if "train travels" in question:
        return n[0] * (n[1] + (n[2] / 60 if len(n) > 2 else 0))
    if "in rent" in question:
        return (n[0] - n[1]) * n[2]
    if "bakery" in question:
        return n[0] - n[0] * n[1] / n[2]
    if "pages" in question:
        return n[0] + n[1] + n[2]
    if "machines" in question:
        return n[0] * n[1] * n[2]
    if "bicycle" in question:
        return n[0] * (100 - n[1]) / 100
    raise AssertionError(f"unknown problem {question!r}")


def test_arithmetic_answers_are_exact():
    docs = _docs("arithmetic") + _docs("arithmetic", "fewshot")
    for doc in docs:
        assert isinstance(doc["answer"], int) and doc["answer"] >= 0
        assert _solve_word_problem(doc["question"]) == doc["answer"], doc
    assert len({d["kind"] for d in docs}) == 8


# --------------------------------------------------------------------------- answer extraction

@pytest.mark.parametrize("text, expected", [
    ("3 boxes of 12 is 36, minus 7 is 29. The answer is 29.", 29),
    ("The sale price is $1,275. The answer is $1,275.", 1275),
    ("First 12, then 15, so 27 pages", 27),  # last-number fallback
    ("answer: -3", -3),
    ("The answer is 4.5 miles.", 4.5),
    ("The answer is 12. Wait, 5 more.", 12),  # the phrase wins over later numbers
    ("no idea", None),
])
def test_extract_answer(text, expected):
    assert _module("utils").extract_answer(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Bob ends with the red ball, so the answer is (B).", "B"),
    ("So the answer is C", "C"),
    ("(A) is wrong because of the clue, and (D) fits.", "D"),
    ("The green book is the leftmost.", "B"),  # the option's own text
    ("I cannot tell.", None),
])
def test_extract_choice(text, expected):
    options = ["The orange book is the leftmost.", "The green book is the leftmost.", "The blue book is the leftmost.",
               "x", "y"]
    assert _module("utils").extract_choice(text, options) == expected
