"""Deterministically generate the `reasoning` task data (BBH-style puzzles and GSM-style word problems).

Every answer is computed by the program that writes the item: orderings are chosen first and clues added
until exactly one ordering fits, dates come from ``datetime`` arithmetic, swaps and walks are simulated,
word problems are evaluated from their numbers. Run ``python tasks/reasoning/generate.py`` to rewrite the
committed ``*.jsonl`` files (byte-identical on every run); ``--out-dir DIR`` writes them elsewhere.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

SEED = 20231118
HERE = Path(__file__).resolve().parent
LETTERS = "ABCDEFG"
ITEMS_PER_PUZZLE = 120
FEWSHOT_PER_PUZZLE = 3
ARITHMETIC_ITEMS = 240
ARITHMETIC_FEWSHOT = 4

# --------------------------------------------------------------------------- logical deduction

SETTINGS = [
    ("On a shelf, there are {n} books: {items}. The books are arranged in a fixed order from left to right.",
     "book", ["red", "blue", "green", "orange", "purple", "white", "black"], "left", "right", "leftmost",
     "rightmost", "from the left", "from the right"),
    ("In a race, there were {n} runners: {items}. There were no ties.",
     "runner", ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus"], "above", "below", "first", "last",
     "from the top", "from the bottom"),
]
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"]


def _names(setting: tuple, objects: list[str]) -> list[str]:
    return [f"the {o} book" if setting[1] == "book" else o for o in objects]


def _clue_text(setting: tuple, clue: tuple, names: list[str]) -> str:
    kind = clue[0]
    cap = lambda s: s[0].upper() + s[1:]  # noqa: E731
    if setting[1] == "book":
        if kind == "before":
            return f"{cap(names[clue[1]])} is to the left of {names[clue[2]]}."
        if kind == "position":
            return f"{cap(names[clue[1]])} is the {ORDINALS[clue[2]]} from the left."
        return f"{cap(names[clue[1]])} is the {ORDINALS[clue[2]]} from the right."
    if kind == "before":
        return f"{names[clue[1]]} finished above {names[clue[2]]}."
    if kind == "position":
        return f"{names[clue[1]]} finished {ORDINALS[clue[2]]}."
    return f"{names[clue[1]]} finished {ORDINALS[clue[2]]} from the bottom." if clue[2] else \
        f"{names[clue[1]]} finished last."


def _fits(order: tuple[int, ...], clue: tuple) -> bool:
    """order[pos] = object index; clues speak of positions counted from the left/top."""
    position = {obj: pos for pos, obj in enumerate(order)}
    n = len(order)
    if clue[0] == "before":
        return position[clue[1]] < position[clue[2]]
    if clue[0] == "position":
        return position[clue[1]] == clue[2]
    return position[clue[1]] == n - 1 - clue[2]


def _option_text(setting: tuple, name: str, pos: int, n: int) -> str:
    cap = name[0].upper() + name[1:]
    if setting[1] == "book":
        where = "leftmost" if pos == 0 else "rightmost" if pos == n - 1 else f"{ORDINALS[pos]} from the left"
        return f"{cap} is the {where}."
    where = "first" if pos == 0 else "last" if pos == n - 1 else ORDINALS[pos]
    return f"{cap} finished {where}."


def make_logical_deduction(rng: random.Random) -> dict[str, Any]:
    setting = rng.choice(SETTINGS)
    n = rng.choice([3, 5])
    objects = rng.sample(setting[2], n)
    names = _names(setting, objects)
    order = tuple(rng.sample(range(n), n))
    candidates = list(itertools.permutations(range(n)))
    position = {obj: pos for pos, obj in enumerate(order)}
    clues: list[tuple] = []
    while len(candidates) > 1:
        a, b = rng.sample(range(n), 2)
        kind = rng.choice(["before", "before", "position", "from_end"])
        if kind == "before":
            clue = ("before", a, b) if position[a] < position[b] else ("before", b, a)
        elif kind == "position":
            clue = ("position", a, position[a])
        else:
            clue = ("from_end", a, n - 1 - position[a])
        remaining = [c for c in candidates if _fits(c, clue)]
        if len(remaining) < len(candidates):
            clues.append(clue)
            candidates = remaining
    asked = rng.randrange(n)  # the position the question is about
    options = [_option_text(setting, names[obj], asked, n) for obj in range(n)]
    gold = order[asked]
    context = setting[0].format(n=["zero", "one", "two", "three", "four", "five"][n], items=", ".join(
        names[:-1]) + ", and " + names[-1]) + " " + " ".join(_clue_text(setting, c, names) for c in clues)
    return {"context": context, "question": "Which of the following is true?", "options": options, "gold": gold}


# --------------------------------------------------------------------------- dates

def _fmt(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def make_date(rng: random.Random) -> dict[str, Any]:
    today = date(2000, 1, 1) + timedelta(days=rng.randrange(365 * 30))
    kind = rng.choice(["days_ago", "days_later", "weeks_ago", "weeks_later", "yesterday", "tomorrow"])
    k = rng.randint(2, 40) if kind.startswith("days") else rng.randint(1, 8)
    offset = {"days_ago": -k, "days_later": k, "weeks_ago": -7 * k, "weeks_later": 7 * k, "yesterday": -1,
              "tomorrow": 1}[kind]
    phrase = {"days_ago": f"{k} days ago", "days_later": f"{k} days from today", "weeks_ago": f"{k} weeks ago",
              "weeks_later": f"{k} weeks from today", "yesterday": "yesterday", "tomorrow": "tomorrow"}[kind]
    answer = today + timedelta(days=offset)
    distractors: set[date] = set()
    for delta in rng.sample([-365, -30, -7, -2, -1, 1, 2, 7, 30, 365], 10):
        candidate = answer + timedelta(days=delta)
        if candidate != answer and len(distractors) < 4:
            distractors.add(candidate)
    options = sorted([answer, *distractors])
    context = f"Today is {_fmt(today)}."
    return {"context": context, "question": f"What is the date {phrase} in MM/DD/YYYY?",
            "options": [_fmt(d) for d in options], "gold": options.index(answer)}


# --------------------------------------------------------------------------- tracking shuffled objects

PEOPLE = ["Alice", "Bob", "Claire", "Dave", "Eve"]
GIFTS = ["a red ball", "a blue ball", "a green ball", "a yellow ball", "a white ball"]


def make_tracking(rng: random.Random) -> dict[str, Any]:
    n = rng.choice([3, 5])
    people, gifts = PEOPLE[:n], rng.sample(GIFTS, n)
    holding = dict(zip(people, gifts))
    swaps = [tuple(rng.sample(people, 2)) for _ in range(n)]
    for a, b in swaps:
        holding[a], holding[b] = holding[b], holding[a]
    asked = rng.choice(people)
    start = ", ".join(f"{p} has {g}" for p, g in zip(people, gifts))
    steps = " ".join(f"{'First' if i == 0 else 'Finally' if i == n - 1 else 'Then'}, {a} and {b} swap balls."
                     for i, (a, b) in enumerate(swaps))
    context = f"{', '.join(people[:-1])} and {people[-1]} are playing a game. At the start, {start}. {steps}"
    options = sorted(gifts)
    return {"context": context, "question": f"At the end of the game, {asked} has",
            "options": options, "gold": options.index(holding[asked])}


# --------------------------------------------------------------------------- navigate

def make_navigate(rng: random.Random) -> dict[str, Any]:
    x = y = 0
    heading = 0  # 0 north, 1 east, 2 south, 3 west
    moves = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    steps, want_return = [], rng.random() < 0.5
    for _ in range(rng.randint(3, 6)):
        action = rng.choice(["step", "step", "turn_left", "turn_right", "turn_around"])
        if action == "step":
            k = rng.randint(1, 9)
            x, y = x + moves[heading][0] * k, y + moves[heading][1] * k
            steps.append(f"Take {k} step{'s' if k > 1 else ''}.")
        else:
            heading = (heading + {"turn_left": 3, "turn_right": 1, "turn_around": 2}[action]) % 4
            steps.append({"turn_left": "Turn left.", "turn_right": "Turn right.", "turn_around": "Turn around."}[action])
    if want_return and (x, y) != (0, 0):  # walk back: face each axis and step
        for axis in (0, 1):
            distance = -(x if axis == 0 else y)
            if distance == 0:
                continue
            wanted = (1 if distance > 0 else 3) if axis == 0 else (0 if distance > 0 else 2)
            turns = (wanted - heading) % 4
            steps += {0: [], 1: ["Turn right."], 2: ["Turn around."], 3: ["Turn left."]}[turns]
            heading = wanted
            k = abs(distance)
            steps.append(f"Take {k} step{'s' if k > 1 else ''}.")
            x, y = (0, y) if axis == 0 else (x, 0)
    returns = (x, y) == (0, 0)
    context = "You start facing north. " + " ".join(steps)
    return {"context": context, "question": "Do you return to the starting point?", "options": ["No", "Yes"],
            "gold": int(returns)}


# --------------------------------------------------------------------------- arithmetic word problems

NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lucia", "Omar", "Nina", "Pavel", "Grace", "Ravi"]


def _money(cents: int) -> str:
    dollars, rest = divmod(cents, 100)
    return f"${dollars:,}" + (f".{rest:02d}" if rest else "")


def _arith(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(NAMES)
    kind = rng.randrange(8)
    if kind == 0:
        boxes, per, given = rng.randint(3, 15), rng.randint(6, 24), rng.randint(1, 20)
        question = (f"{name} buys {boxes} boxes of pencils. Each box holds {per} pencils. {name} gives away "
                    f"{given} pencils. How many pencils does {name} have left?")
        answer = boxes * per - given
    elif kind == 1:
        price, count = rng.randint(2, 40), rng.randint(2, 9)
        paid = (price * count // 50 + 1) * 50
        question = (f"{name} buys {count} notebooks at ${price} each and pays with ${paid}. How many dollars of "
                    "change does " f"{name} get?")
        answer = paid - price * count
    elif kind == 2:
        speed, hours = rng.randint(15, 45) * 2, rng.randint(1, 6)
        minutes = rng.choice([0, 30])
        question = (f"A train travels at {speed} miles per hour for {hours} hours"
                    + (f" and {minutes} minutes" if minutes else "") + ". How many miles does it travel?")
        answer = speed * hours + speed * minutes // 60
    elif kind == 3:
        salary, months, rent = rng.randint(20, 90) * 100, rng.randint(2, 12), rng.randint(5, 15) * 100
        question = (f"{name} earns {_money(salary * 100)} a month and pays {_money(rent * 100)} in rent each month. "
                    f"How many dollars does {name} keep after rent over {months} months?")
        answer = (salary - rent) * months
    elif kind == 4:
        total, fraction = rng.randint(4, 30) * 12, rng.choice([(1, 2), (1, 3), (1, 4), (2, 3), (3, 4), (5, 6)])
        eaten = total * fraction[0] // fraction[1]
        question = (f"A bakery makes {total} cookies. It sells {fraction[0]}/{fraction[1]} of them in the morning "
                    "and the rest in the afternoon. How many cookies does it sell in the afternoon?")
        answer = total - eaten
    elif kind == 5:
        a, b, c = rng.randint(12, 99), rng.randint(12, 99), rng.randint(12, 99)
        question = (f"{name} reads {a} pages on Monday, {b} pages on Tuesday and {c} pages on Wednesday. How many "
                    "pages does " f"{name} read in total?")
        answer = a + b + c
    elif kind == 6:
        workers, per_day, days = rng.randint(2, 12), rng.randint(15, 60), rng.randint(3, 20)
        question = (f"A factory has {workers} machines. Each machine makes {per_day} parts a day. How many parts "
                    f"do the machines make in {days} days?")
        answer = workers * per_day * days
    else:
        price, pct = rng.randint(4, 60) * 100, rng.choice([10, 20, 25, 40, 50])
        question = (f"A bicycle costs {_money(price * 100)}. It is on sale for {pct}% off. What is the sale "
                    "price in dollars?")
        answer = price * (100 - pct) // 100
    return {"question": question, "answer": answer, "kind": kind}


# --------------------------------------------------------------------------- writing

PUZZLES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "logical_deduction": make_logical_deduction, "date": make_date, "tracking": make_tracking,
    "navigate": make_navigate,
}


def _unique(make: Callable[[random.Random], dict[str, Any]], rng: random.Random, count: int,
            seen: set[str]) -> list[dict[str, Any]]:
    docs = []
    while len(docs) < count:
        doc = make(rng)
        key = json.dumps(doc, sort_keys=True)
        if key not in seen:
            seen.add(key)
            docs.append(doc)
    return docs


def _with_letters(doc: dict[str, Any]) -> dict[str, Any]:
    """The chain-of-thought form's fields: options labelled (A), (B), ... and the gold letter."""
    doc["options_text"] = "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(doc["options"]))
    doc["gold_letter"] = LETTERS[doc["gold"]]
    return doc


def write_jsonl(path: Path, docs: list[dict]) -> None:
    path.write_text("".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in docs),
                    encoding="utf-8")


def generate(out_dir: Path) -> dict[str, int]:
    """Write every task's test and few-shot files; returns item counts per file."""
    counts = {}
    for offset, (name, make) in enumerate(PUZZLES.items()):
        rng, seen = random.Random(SEED + offset), set()
        test = [_with_letters(d) for d in _unique(make, rng, ITEMS_PER_PUZZLE, seen)]
        shots = [_with_letters(d) for d in _unique(make, rng, FEWSHOT_PER_PUZZLE, seen)]
        for split, docs in (("test", test), ("fewshot", shots)):
            write_jsonl(out_dir / f"{name}_{split}.jsonl", docs)
            counts[f"{name}_{split}"] = len(docs)
    rng, seen = random.Random(SEED + 100), set()
    for split, count in (("test", ARITHMETIC_ITEMS), ("fewshot", ARITHMETIC_FEWSHOT)):
        docs = _unique(_arith, rng, count, seen)
        write_jsonl(out_dir / f"arithmetic_{split}.jsonl", docs)
        counts[f"arithmetic_{split}"] = len(docs)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args()
    for name, count in generate(args.out_dir).items():
        print(f"{name}: {count}")


if __name__ == "__main__":
    main()
