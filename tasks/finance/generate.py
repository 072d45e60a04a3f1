"""Deterministically generate the `finance` task data (all text written for this project).

Run ``python tasks/finance/generate.py`` to rewrite the committed ``*.jsonl`` files next to
this script; the output is byte-identical on every run (fixed seeds, ``random.Random``).
``--out-dir DIR`` writes them elsewhere (the tests use it to compare with the committed files).
"""

from __future__ import annotations

import argparse
import json
import random
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

SEED = 20240611
HERE = Path(__file__).resolve().parent

SENTIMENT_TEST_PER_CLASS = 60
SENTIMENT_TRAIN_PER_CLASS = 4
NUMERIC_TEST_PER_TYPE = 16
NUMERIC_TRAIN_ITEMS = 10
HEADLINE_TEST_PER_ANSWER = 60
HEADLINE_TRAIN_PER_ANSWER = 5

REL_TOL = 1e-2  # keep in sync with utils.REL_TOL (the tests check it)
ABS_TOL = 1e-2

LABELS = ("negative", "neutral", "positive")

# --------------------------------------------------------------------------- shared vocab

COMPANIES = [
    "Arvell Systems", "Brightwater Foods", "Calder Mining", "Dunmore Logistics",
    "Elmstead Pharma", "Fairhaven Bank", "Greyhill Motors", "Halvorsen Shipping",
    "Ironbridge Steel", "Juniper Retail Group", "Kestrel Telecom", "Larkspur Energy",
    "Marlow Insurance", "Northgate Paper", "Oakridge Software", "Pinecrest Hotels",
    "Quarry Lane Cement", "Redfern Airlines", "Saltmarsh Chemicals", "Thornbury Textiles",
    "Upland Water", "Valemont Electronics", "Westbrook Media", "Yarrow Biotech",
    "Zephyr Wind Power", "Ashcombe Foods", "Birchfield Engineering", "Copperleaf Semiconductors",
]
PERIODS = [
    "the first quarter of 2023", "the second quarter of 2023", "the third quarter of 2024",
    "the fourth quarter of 2022", "the first half of 2024", "fiscal 2023",
    "the nine months to September", "January-June 2024", "the full year 2022",
    "the quarter ended March 31",
]
CURRENCIES = ["EUR", "USD", "GBP", "SEK", "CHF"]
GOOD_METRICS = [
    "net sales", "operating profit", "net profit", "order intake", "revenue",
    "EBITDA", "comparable store sales", "pre-tax profit", "operating cash flow",
]
BAD_METRICS = ["operating expenses", "loan-loss provisions", "net debt", "production costs"]
REGIONS = ["Europe", "North America", "the Nordic countries", "Asia", "Latin America", "the UK"]
CITIES = ["Helsinki", "Frankfurt", "Chicago", "Lyon", "Rotterdam", "Oslo", "Toronto", "Leeds"]
PEOPLE = [
    "Maria Lindqvist", "Thomas Achebe", "Priya Raman", "Jonas Keller", "Elena Moreau",
    "David Okafor", "Sofia Brandt", "Kenji Watanabe", "Laura Jensen", "Marco Bellini",
]
ROLES = ["chief financial officer", "chief executive officer", "head of investor relations",
         "chief operating officer", "board chair"]
CLIENTS = ["a national railway operator", "a regional hospital group", "the defence ministry",
           "a large utility", "a global carmaker", "a city transit authority"]
DATES = ["April 24", "May 9", "June 3", "July 18", "August 6", "October 21", "November 12",
         "February 15", "March 28"]


def _amount(rng: random.Random, lo: int = 12, hi: int = 900) -> str:
    """A money amount in millions, written with one decimal."""
    return f"{rng.randint(lo * 10, hi * 10) / 10:.1f}"


def _pct(rng: random.Random, lo: int = 2, hi: int = 45) -> str:
    return f"{rng.randint(lo * 10, hi * 10) / 10:.1f}"


# --------------------------------------------------------------------------- sentiment


def _poss(name: str) -> str:
    """Possessive form: "Arvell Systems'" / "Kestrel Telecom's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _sentence_positive(rng: random.Random) -> str:
    co, cur, per = rng.choice(COMPANIES), rng.choice(CURRENCIES), rng.choice(PERIODS)
    good, bad = rng.choice(GOOD_METRICS), rng.choice(BAD_METRICS)
    old = float(_amount(rng, 50, 600))
    new = f"{old * (1 + rng.randint(8, 60) / 100):.1f}"
    templates: list[Callable[[], str]] = [
        lambda: f"{_poss(co)} {good} rose {_pct(rng)}% to {cur} {_amount(rng)} million in {per}.",
        lambda: f"{co} reported {good} of {cur} {new} million for {per}, up from {cur} {old:.1f} million a year earlier.",
        lambda: f"{co} raised its full-year outlook for {good} after strong demand in {rng.choice(REGIONS)}.",
        lambda: f"Shares in {co} jumped {_pct(rng, 3, 18)}% after the company won a {cur} {_amount(rng)} million contract from {rng.choice(CLIENTS)}.",
        lambda: f"{co} cut its {bad} by {_pct(rng, 4, 30)}% in {per}, lifting its operating margin.",
        lambda: f"{_poss(co)} net loss narrowed to {cur} {old:.1f} million in {per} from {cur} {new} million a year earlier.",
        lambda: f"{co} will raise its dividend to {cur} {rng.randint(40, 90) / 100:.2f} per share from {cur} {rng.randint(10, 39) / 100:.2f}.",
        lambda: f"{co} beat analysts' expectations as {good} grew {_pct(rng)}% in {per}.",
        lambda: f"{co} swung to an operating profit of {cur} {_amount(rng)} million in {per} from a loss a year ago.",
        lambda: f"Demand in {rng.choice(REGIONS)} pushed {_poss(co)} {good} up {_pct(rng)}% year on year in {per}.",
    ]
    return rng.choice(templates)()


def _sentence_negative(rng: random.Random) -> str:
    co, cur, per = rng.choice(COMPANIES), rng.choice(CURRENCIES), rng.choice(PERIODS)
    good, bad = rng.choice(GOOD_METRICS), rng.choice(BAD_METRICS)
    new = float(_amount(rng, 50, 600))
    old = f"{new * (1 + rng.randint(8, 60) / 100):.1f}"
    templates: list[Callable[[], str]] = [
        lambda: f"{_poss(co)} {good} fell {_pct(rng)}% to {cur} {_amount(rng)} million in {per}.",
        lambda: f"{co} reported {good} of {cur} {new:.1f} million for {per}, down from {cur} {old} million a year earlier.",
        lambda: f"{co} cut its full-year guidance for {good}, citing weak demand in {rng.choice(REGIONS)}.",
        lambda: f"Shares in {co} slumped {_pct(rng, 3, 25)}% after the company lost a major contract with {rng.choice(CLIENTS)}.",
        lambda: f"{_poss(co)} {bad} rose {_pct(rng, 4, 40)}% in {per}, weighing on its results.",
        lambda: f"{_poss(co)} net loss widened to {cur} {old} million in {per} from {cur} {new:.1f} million a year earlier.",
        lambda: f"{co} will cut {rng.randint(3, 90) * 10} jobs as {good} continues to decline.",
        lambda: f"{co} missed analysts' expectations as {good} dropped {_pct(rng)}% in {per}.",
        lambda: f"{co} suspended its dividend after posting an operating loss of {cur} {_amount(rng)} million in {per}.",
        lambda: f"Weak demand in {rng.choice(REGIONS)} pushed {_poss(co)} {good} down {_pct(rng)}% year on year in {per}.",
    ]
    return rng.choice(templates)()


def _sentence_neutral(rng: random.Random) -> str:
    co, cur, per = rng.choice(COMPANIES), rng.choice(CURRENCIES), rng.choice(PERIODS)
    city, date = rng.choice(CITIES), rng.choice(DATES)
    templates: list[Callable[[], str]] = [
        lambda: f"{co} will publish its interim report for {per} on {date}.",
        lambda: f"The annual general meeting of {co} will be held in {city} on {date}.",
        lambda: f"{co} operates {rng.randint(12, 480)} sites in {rng.choice(REGIONS)}.",
        lambda: f"{_poss(co)} {rng.choice(GOOD_METRICS)} was unchanged at {cur} {_amount(rng)} million in {per}.",
        lambda: f"{co} has appointed {rng.choice(PEOPLE)} as {rng.choice(ROLES)}, effective {date}.",
        lambda: f"{co} is headquartered in {city} and employs about {rng.randint(3, 95) * 100} people.",
        lambda: f"{co} will hold a capital markets day in {city} on {date}.",
        lambda: f"{co} prepares its financial statements for {per} in accordance with IFRS.",
        lambda: f"{co} will report its segments in {cur} starting from {per}.",
        lambda: f"The board of {co} consists of {rng.randint(5, 11)} members, {rng.randint(2, 4)} of whom are independent of major shareholders.",
    ]
    return rng.choice(templates)()


def make_sentiment(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Return (test, train) sentiment docs, balanced across the three labels."""
    makers = {0: _sentence_negative, 1: _sentence_neutral, 2: _sentence_positive}
    per_class = SENTIMENT_TEST_PER_CLASS + SENTIMENT_TRAIN_PER_CLASS
    seen: set[str] = set()
    pools: dict[int, list[str]] = {}
    for label, maker in makers.items():
        pool: list[str] = []
        while len(pool) < per_class:
            sentence = maker(rng)
            if sentence not in seen:
                seen.add(sentence)
                pool.append(sentence)
        pools[label] = pool
    test = [(s, lab) for lab, pool in pools.items() for s in pool[:SENTIMENT_TEST_PER_CLASS]]
    train = [(s, lab) for lab, pool in pools.items() for s in pool[SENTIMENT_TEST_PER_CLASS:]]
    rng.shuffle(test)
    rng.shuffle(train)

    def docs(items: list[tuple[str, int]], prefix: str) -> list[dict]:
        return [
            {"id": f"{prefix}-{i:04d}", "sentence": s, "label": lab, "label_text": LABELS[lab]}
            for i, (s, lab) in enumerate(items)
        ]

    return docs(test, "sent-test"), docs(train, "sent-train")


# --------------------------------------------------------------------------- numeric


def _tenths(rng: random.Random, lo: int, hi: int) -> Fraction:
    """A random value in [lo, hi] with one decimal, as an exact Fraction."""
    return Fraction(rng.randint(lo * 10, hi * 10), 10)


def _dec(x: Fraction) -> str:
    """Plain decimal string of a one-decimal Fraction (used in programs)."""
    s = f"{float(x):.1f}"
    return s[:-2] if s.endswith(".0") else s


def _cell(x: Fraction, dollar: bool) -> str:
    s = f"{float(x):,.1f}"
    s = s[:-2] if s.endswith(".0") else s
    return f"$ {s}" if dollar else s


def _money(x: Fraction) -> str:
    """Money in running text, e.g. '$1,234.5 million'."""
    s = f"{float(x):,.1f}"
    return f"${s[:-2] if s.endswith('.0') else s} million"


def is_correct(pred: float | None, gold: float) -> bool:
    """Same tolerance rule as utils.is_correct."""
    if pred is None:
        return False
    if gold == 0:
        return abs(pred) <= ABS_TOL
    return abs(pred - gold) <= REL_TOL * abs(gold)


def _display(value: float, unit: str) -> str:
    body = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    if unit == "%":
        return f"{sign}{body}%"
    if unit == "$":
        return f"{sign}${body}"
    return f"{sign}{body}"


INDUSTRIES = {
    "retail": ("Net sales", "Cost of goods sold", "Gross profit", "stores"),
    "software": ("Subscription revenue", "Cost of revenue", "Gross profit", "customers"),
    "manufacturing": ("Revenue", "Cost of sales", "Gross profit", "plants"),
    "logistics": ("Total revenues", "Operating costs", "Gross profit", "depots"),
    "energy": ("Operating revenues", "Fuel and purchased power", "Gross margin", "power stations"),
}
SEGMENTS = [
    ("Industrial", "Consumer", "Healthcare"),
    ("Americas", "Europe", "Asia Pacific"),
    ("Equipment", "Services", "Software"),
    ("Wholesale", "Retail", "Online"),
    ("Residential", "Commercial", "Infrastructure"),
]


def _years(rng: random.Random, n: int) -> list[str]:
    start = rng.randint(2012, 2024 - n)
    return [str(y) for y in range(start, start + n)]


def _income_context(rng: random.Random, n_years: int) -> dict[str, Any]:
    """A small income statement: revenue, costs, gross profit, opex, operating and net income."""
    industry = rng.choice(sorted(INDUSTRIES))
    rev_name, cost_name, gp_name, unit_name = INDUSTRIES[industry]
    years = _years(rng, n_years)
    rev = [_tenths(rng, 800, 9000)]
    for _ in years[1:]:
        rev.append(Fraction(round(rev[-1] * Fraction(rng.randint(85, 130), 100) * 10), 10))
    cost = [Fraction(round(r * Fraction(rng.randint(45, 75), 100) * 10), 10) for r in rev]
    gp = [r - c for r, c in zip(rev, cost)]
    opex = [Fraction(round(g * Fraction(rng.randint(35, 80), 100) * 10), 10) for g in gp]
    oi = [g - o for g, o in zip(gp, opex)]
    ni = [Fraction(round(o * Fraction(rng.randint(55, 80), 100) * 10), 10) for o in oi]
    dollar = rng.random() < 0.5
    rows = [
        (rev_name, rev), (cost_name, cost), (gp_name, gp),
        ("Selling, general and administrative", opex), ("Operating income", oi), ("Net income", ni),
    ]
    table = [[""] + years] + [[name] + [_cell(v, dollar) for v in vals] for name, vals in rows]
    company = rng.choice(COMPANIES)
    pre = (
        f"{company} is {'an' if industry[0] in 'aeiou' else 'a'} {industry} company operating {rng.randint(20, 400)} {unit_name}. "
        f"The table below summarizes its consolidated results (in $ millions) for fiscal years "
        f"{years[0]} to {years[-1]}."
    )
    return {
        "company": company, "years": years, "table": table, "pre": pre,
        "rev": rev, "cost": cost, "gp": gp, "opex": opex, "oi": oi, "ni": ni,
        "names": {"rev": rev_name, "cost": cost_name, "gp": gp_name,
                  "opex": "selling, general and administrative expenses",
                  "oi": "operating income", "ni": "net income"},
    }


def _q_pct_change(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, rng.choice([3, 4]))
    key = rng.choice(["rev", "cost", "opex", "oi", "ni"])
    i, j = sorted(rng.sample(range(len(ctx["years"])), 2))
    a, b = ctx[key][i], ctx[key][j]
    name, y1, y2 = ctx["names"][key].lower(), ctx["years"][i], ctx["years"][j]
    q = rng.choice([
        f"What was the percentage change in {name} from {y1} to {y2}? Answer in percent.",
        f"By what percent did {name} change between {y1} and {y2}?",
        f"How much did {name} grow or shrink from {y1} to {y2}, in percent?",
    ])
    return {**ctx, "question": q, "value": (b - a) / a * 100, "unit": "%",
            "program": f"subtract({_dec(b)}, {_dec(a)}), divide(#0, {_dec(a)}), multiply(#1, const_100)",
            "post": f"All amounts are reported under {rng.choice(['U.S. GAAP', 'IFRS'])}."}


def _q_difference(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 3)
    key = rng.choice(["rev", "gp", "opex", "oi", "ni", "cost"])
    i, j = sorted(rng.sample(range(3), 2))
    a, b = ctx[key][i], ctx[key][j]
    name, y1, y2 = ctx["names"][key].lower(), ctx["years"][i], ctx["years"][j]
    q = rng.choice([
        f"What was the change in {name} from {y1} to {y2}, in $ millions?",
        f"By how many millions of dollars did {name} in {y2} differ from {y1}?",
        f"What is the difference between {name} in {y2} and in {y1} (in $ millions)?",
    ])
    return {**ctx, "question": q, "value": b - a, "unit": "$",
            "program": f"subtract({_dec(b)}, {_dec(a)})",
            "post": "Fiscal years end on December 31."}


def _q_margin(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, rng.choice([2, 3]))
    key, label = rng.choice([("gp", "gross margin"), ("oi", "operating margin"), ("ni", "net profit margin")])
    i = rng.randrange(len(ctx["years"]))
    num, den = ctx[key][i], ctx["rev"][i]
    q = rng.choice([
        f"What was the {label} in {ctx['years'][i]}, in percent?",
        f"What percentage of {ctx['names']['rev'].lower()} did {ctx['names'][key].lower()} represent in {ctx['years'][i]}?",
    ])
    return {**ctx, "question": q, "value": num / den * 100, "unit": "%",
            "program": f"divide({_dec(num)}, {_dec(den)}), multiply(#0, const_100)",
            "post": "Amounts exclude sales taxes and discontinued operations."}


def _q_cagr(rng: random.Random) -> dict[str, Any]:
    n_years = rng.choice([3, 4, 5])
    ctx = _income_context(rng, n_years)
    key = rng.choice(["rev", "gp", "oi"])
    a, b = ctx[key][0], ctx[key][-1]
    n = n_years - 1
    name, y1, y2 = ctx["names"][key].lower(), ctx["years"][0], ctx["years"][-1]
    q = rng.choice([
        f"What was the compound annual growth rate of {name} from {y1} to {y2}, in percent?",
        f"What was the CAGR of {name} over {y1}-{y2}? Answer in percent.",
    ])
    value = (float(b / a) ** (1.0 / n) - 1.0) * 100
    return {**ctx, "question": q, "value": value, "unit": "%",
            "program": f"divide({_dec(b)}, {_dec(a)}), divide(const_1, const_{n}), exp(#0, #1), subtract(#2, const_1), multiply(#3, const_100)",
            "post": f"The compound annual growth rate is computed over {n} annual periods."}


def _q_per_share(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 2)
    i = rng.randrange(2)
    shares = _tenths(rng, 40, 900)
    y = ctx["years"][i]
    kind = rng.choice(["diluted", "basic"])
    post = (f"The weighted average number of {kind} shares outstanding was {_dec(shares)} million in {y}. "
            f"Net income is attributable to common shareholders.")
    q = rng.choice([
        f"What were {kind} earnings per share in {y}, in dollars?",
        f"Using net income and the {kind} share count, what was EPS for {y} (in $ per share)?",
    ])
    return {**ctx, "question": q, "value": ctx["ni"][i] / shares, "unit": "$",
            "program": f"divide({_dec(ctx['ni'][i])}, {_dec(shares)})", "post": post}


def _balance_context(rng: random.Random) -> dict[str, Any]:
    years = _years(rng, 2)
    ca = [_tenths(rng, 300, 6000) for _ in years]
    cl = [Fraction(round(c * Fraction(rng.randint(40, 110), 100) * 10), 10) for c in ca]
    debt = [_tenths(rng, 100, 5000) for _ in years]
    equity = [Fraction(round(d * Fraction(rng.randint(60, 300), 100) * 10), 10) for d in debt]
    cash = [Fraction(round(c * Fraction(rng.randint(10, 40), 100) * 10), 10) for c in ca]
    dollar = rng.random() < 0.5
    rows = [("Cash and cash equivalents", cash), ("Total current assets", ca),
            ("Total current liabilities", cl), ("Long-term debt", debt), ("Total shareholders' equity", equity)]
    table = [["(in $ millions)", f"December 31, {years[1]}", f"December 31, {years[0]}"]]
    table += [[name, _cell(v[1], dollar), _cell(v[0], dollar)] for name, v in rows]
    company = rng.choice(COMPANIES)
    pre = f"The following is a condensed balance sheet of {company} as of December 31 of each year."
    return {"company": company, "years": years, "table": table, "pre": pre,
            "ca": ca, "cl": cl, "debt": debt, "equity": equity, "cash": cash}


def _q_ratio(rng: random.Random) -> dict[str, Any]:
    ctx = _balance_context(rng)
    i = rng.randrange(2)
    y = ctx["years"][i]
    kind = rng.choice(["current", "debt_equity", "cash"])
    if kind == "current":
        a, b = ctx["ca"][i], ctx["cl"][i]
        q = f"What was the current ratio (current assets divided by current liabilities) at December 31, {y}?"
    elif kind == "debt_equity":
        a, b = ctx["debt"][i], ctx["equity"][i]
        q = f"What was the ratio of long-term debt to total shareholders' equity at the end of {y}?"
    else:
        a, b = ctx["ca"][i], ctx["cash"][i]
        q = f"How many times larger were total current assets than cash and cash equivalents at the end of {y}?"
    return {**ctx, "question": q + " Round to two decimals.", "value": a / b, "unit": "",
            "program": f"divide({_dec(a)}, {_dec(b)})",
            "post": "Current liabilities include the current portion of long-term debt."}


def _segment_context(rng: random.Random) -> dict[str, Any]:
    names = rng.choice(SEGMENTS)
    years = _years(rng, 2)
    vals = {n: [_tenths(rng, 150, 4000) for _ in years] for n in names}
    total = [sum(vals[n][k] for n in names) for k in range(2)]
    dollar = rng.random() < 0.5
    table = [["Segment revenue ($ in millions)"] + years]
    table += [[n] + [_cell(v, dollar) for v in vals[n]] for n in names]
    table += [["Total"] + [_cell(t, dollar) for t in total]]
    company = rng.choice(COMPANIES)
    pre = f"{company} reports three segments. Revenue by segment was as follows."
    return {"company": company, "years": years, "table": table, "pre": pre, "segs": names,
            "vals": vals, "total": total}


def _q_share(rng: random.Random) -> dict[str, Any]:
    ctx = _segment_context(rng)
    seg = rng.choice(ctx["segs"])
    i = rng.randrange(2)
    y = ctx["years"][i]
    a, t = ctx["vals"][seg][i], ctx["total"][i]
    q = rng.choice([
        f"What percentage of total revenue in {y} came from the {seg} segment?",
        f"What share of {y} total revenue did {seg} contribute, in percent?",
    ])
    return {**ctx, "question": q, "value": a / t * 100, "unit": "%",
            "program": f"divide({_dec(a)}, {_dec(t)}), multiply(#0, const_100)",
            "post": "Intersegment sales are eliminated in the total."}


def _q_segment_sum(rng: random.Random) -> dict[str, Any]:
    ctx = _segment_context(rng)
    s1, s2 = rng.sample(list(ctx["segs"]), 2)
    i = rng.randrange(2)
    y = ctx["years"][i]
    a, b = ctx["vals"][s1][i], ctx["vals"][s2][i]
    q = f"What was the combined revenue of the {s1} and {s2} segments in {y}, in $ millions?"
    return {**ctx, "question": q, "value": a + b, "unit": "$",
            "program": f"add({_dec(a)}, {_dec(b)})",
            "post": "Segment revenue is presented before corporate allocations."}


def _q_average(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 3)
    key = rng.choice(["rev", "opex", "ni", "gp"])
    v = ctx[key]
    name = ctx["names"][key].lower()
    q = rng.choice([
        f"What was the average annual {name} from {ctx['years'][0]} to {ctx['years'][2]}, in $ millions?",
        f"What was the mean of {name} over the three years shown (in $ millions)?",
    ])
    return {**ctx, "question": q, "value": (v[0] + v[1] + v[2]) / 3, "unit": "$",
            "program": f"add({_dec(v[0])}, {_dec(v[1])}), add(#0, {_dec(v[2])}), divide(#1, const_3)",
            "post": "Amounts for prior years have not been restated."}


def _q_margin_change(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 3)
    i, j = sorted(rng.sample(range(3), 2))
    oi, rev, y1, y2 = ctx["oi"], ctx["rev"], ctx["years"][i], ctx["years"][j]
    q = (f"By how many percentage points did the operating margin (operating income as a share of "
         f"{ctx['names']['rev'].lower()}) change from {y1} to {y2}?")
    value = (oi[j] / rev[j] - oi[i] / rev[i]) * 100
    return {**ctx, "question": q, "value": value, "unit": "",
            "program": (f"divide({_dec(oi[j])}, {_dec(rev[j])}), divide({_dec(oi[i])}, {_dec(rev[i])}), "
                        f"subtract(#0, #1), multiply(#2, const_100)"),
            "post": "A negative answer means the margin declined."}


def _q_text_growth(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 2)
    item = rng.choice(["Capital expenditures", "Research and development spending",
                       "Dividends paid", "Share repurchases", "Free cash flow"])
    a, b = _tenths(rng, 20, 900), _tenths(rng, 20, 900)
    y1, y2 = ctx["years"]
    post = f"{item} were {_money(b)} in {y2} compared with {_money(a)} in {y1}."
    q = f"What was the percentage change in {item.lower()} from {y1} to {y2}?"
    return {**ctx, "question": q + " Answer in percent.", "value": (b - a) / a * 100, "unit": "%",
            "program": f"subtract({_dec(b)}, {_dec(a)}), divide(#0, {_dec(a)}), multiply(#1, const_100)",
            "post": post}


def _q_text_ratio_of_rev(rng: random.Random) -> dict[str, Any]:
    ctx = _income_context(rng, 2)
    i = rng.randrange(2)
    y = ctx["years"][i]
    rd = Fraction(round(ctx["rev"][i] * Fraction(rng.randint(3, 25), 100) * 10), 10)
    post = f"Research and development expense was {_money(rd)} in {y}."
    q = f"What was research and development expense as a percentage of {ctx['names']['rev'].lower()} in {y}?"
    return {**ctx, "question": q, "value": rd / ctx["rev"][i] * 100, "unit": "%",
            "program": f"divide({_dec(rd)}, {_dec(ctx['rev'][i])}), multiply(#0, const_100)",
            "post": post}


NUMERIC_MAKERS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "pct_change": _q_pct_change,
    "difference": _q_difference,
    "margin": _q_margin,
    "cagr": _q_cagr,
    "per_share": _q_per_share,
    "ratio": _q_ratio,
    "share_of_total": _q_share,
    "segment_sum": _q_segment_sum,
    "average": _q_average,
    "margin_change": _q_margin_change,
    "text_pct_change": _q_text_growth,
    "text_pct_of_revenue": _q_text_ratio_of_rev,
}


def _numeric_doc(rng: random.Random, qtype: str) -> dict[str, Any]:
    """Draw items of one type until the 2-decimal display answer is within tolerance."""
    while True:
        item = NUMERIC_MAKERS[qtype](rng)
        value = round(float(item["value"]), 6)
        if abs(value) < 0.5 or not is_correct(round(value, 2), value):
            continue
        return {
            "pre_text": item["pre"], "table": item["table"], "post_text": item["post"],
            "question": item["question"], "answer": value,
            "answer_str": _display(value, item["unit"]), "program": item["program"], "qtype": qtype,
        }


def make_numeric(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Return (test, train) numeric docs, an equal number per question type."""
    qtypes = list(NUMERIC_MAKERS)
    test = [_numeric_doc(rng, qt) for qt in qtypes for _ in range(NUMERIC_TEST_PER_TYPE)]
    rng.shuffle(test)
    train = [_numeric_doc(rng, qtypes[k % len(qtypes)]) for k in range(NUMERIC_TRAIN_ITEMS)]
    out = []
    for prefix, docs in (("num-test", test), ("num-train", train)):
        out.append([{"id": f"{prefix}-{i:04d}", **d} for i, d in enumerate(docs)])
    return out[0], out[1]


# --------------------------------------------------------------------------- headlines

ASSETS = ["Gold", "Spot gold", "Bullion", "Comex gold", "The gold price", "Gold futures"]
OTHERS = ["silver", "equities", "the dollar", "bitcoin", "Treasuries", "platinum", "oil"]
UP_VERBS = ["rises", "climbs", "gains", "jumps", "edges higher", "rallies", "advances"]
DOWN_VERBS = ["falls", "slips", "drops", "declines", "edges lower", "slides", "tumbles"]
UP_REASONS = ["as dollar weakens", "on safe-haven demand", "after soft U.S. jobs data",
              "as bond yields ease", "on rate-cut bets", "amid geopolitical tension"]
DOWN_REASONS = ["as dollar firms", "as yields climb", "after strong U.S. retail sales",
                "on profit-taking", "as risk appetite returns", "ahead of hawkish Fed remarks"]
WHENS = ["next week", "in the coming months", "by year-end", "in the second quarter", "next year"]
MONTHS = ["January", "March", "May", "July", "September", "November"]

# Questions in the style of the Gold news-headline dataset (wording written for this project).
HEADLINE_QUESTIONS = {
    "up": "Does the news headline talk about price going up?",
    "down": "Does the news headline talk about price going down?",
    "stable": "Does the news headline talk about price staying constant?",
    "future": "Does the news headline talk about a future price movement?",
    "compare": "Does the news headline compare gold with any other asset?",
}


def _price(rng: random.Random) -> str:
    return f"${rng.randint(1180, 2450):,}"


def _asset(rng: random.Random) -> tuple[str, str]:
    """An asset name and the verb suffix agreeing with it ('s' for singular)."""
    a = rng.choice(ASSETS)
    return a, "" if a.endswith("futures") else "s"


def _verb(verb: str, suffix: str) -> str:
    """Turn a third-person verb phrase ('rises', 'edges higher') into the plural when needed."""
    if suffix:
        return verb
    head, _, rest = verb.partition(" ")
    head = head[:-3] + "y" if head.endswith("ies") else head[:-1]
    return f"{head} {rest}".strip()


def _headline(rng: random.Random) -> tuple[str, dict[str, bool]]:
    """One headline and the answers to the questions it answers unambiguously.

    Past/present movement headlines answer every question; headlines about a future move
    only answer `future` and `compare` (whether a forecast 'talks about price going up'
    is ambiguous, so it is never asked).
    """
    a, s = _asset(rng)
    pct, other, month = f"{rng.randint(2, 40) / 10:.1f}", rng.choice(OTHERS), rng.choice(MONTHS)
    subj = a
    low = a[0].lower() + a[1:] if not a.startswith("Comex") else a
    up, down = _verb(rng.choice(UP_VERBS), s), _verb(rng.choice(DOWN_VERBS), s)
    kind = rng.choice(["up", "down", "stable", "up_future", "down_future", "up_cmp", "down_cmp", "stable_cmp"])
    if kind == "up":
        text = rng.choice([f"{subj} {up} {pct}% {rng.choice(UP_REASONS)}",
                           f"{subj} {up} to {_price(rng)} an ounce {rng.choice(UP_REASONS)}",
                           f"{subj} hit{s} {rng.choice(['two-week', 'one-month', 'six-month'])} high {rng.choice(UP_REASONS)}",
                           f"{subj} extend{s} rally for {rng.choice(['a third', 'a fourth', 'a fifth'])} session {rng.choice(UP_REASONS)}"])
    elif kind == "down":
        text = rng.choice([f"{subj} {down} {pct}% {rng.choice(DOWN_REASONS)}",
                           f"{subj} {down} to {_price(rng)} an ounce {rng.choice(DOWN_REASONS)}",
                           f"{subj} hit{s} {rng.choice(['two-week', 'one-month', 'three-month'])} low {rng.choice(DOWN_REASONS)}",
                           f"{subj} extend{s} losses for {rng.choice(['a second', 'a third', 'a fourth'])} day {rng.choice(DOWN_REASONS)}"])
    elif kind == "stable":
        text = rng.choice([f"{subj} hold{s} steady near {_price(rng)} an ounce ahead of Fed meeting",
                           f"{subj} little changed at {_price(rng)} in quiet trade",
                           f"{subj} flat in {month} as traders await inflation data",
                           f"{subj} steady at {_price(rng)} as markets pause for holiday",
                           f"{subj} trade{s} sideways in tight range near {_price(rng)}"])
    elif kind == "up_future":
        text = rng.choice([f"Analysts expect {low} to rise {rng.choice(WHENS)}",
                           f"{subj} seen climbing to {_price(rng)} {rng.choice(WHENS)}, survey shows",
                           f"{subj} could rally {rng.choice(WHENS)} on rate cuts, strategists say"])
    elif kind == "down_future":
        text = rng.choice([f"Analysts expect {low} to fall {rng.choice(WHENS)}",
                           f"{subj} seen slipping to {_price(rng)} {rng.choice(WHENS)}, survey shows",
                           f"{subj} could weaken {rng.choice(WHENS)} as yields rise, strategists say"])
    elif kind == "up_cmp":
        text = f"{subj} {up} {pct}% in {month}, outperforming {other}"
    elif kind == "down_cmp":
        text = f"{subj} {down} {pct}% in {month}, underperforming {other}"
    else:
        text = rng.choice([f"{subj} unchanged in {month}, trailing {other}",
                           f"{subj} hold{s} steady at {_price(rng)}, lagging {other} this week"])
    direction, _, tail = kind.partition("_")
    if tail == "future":
        return text, {"future": True, "compare": False}
    return text, {
        "up": direction == "up", "down": direction == "down", "stable": direction == "stable",
        "future": False, "compare": tail == "cmp",
    }


def make_headlines(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Return (test, train) headline docs: every question asked equally often, half Yes, half No."""
    seen: set[str] = set()
    keys = list(HEADLINE_QUESTIONS)
    out: dict[str, list[dict]] = {}
    for split, per_answer in (("test", HEADLINE_TEST_PER_ANSWER), ("train", HEADLINE_TRAIN_PER_ANSWER)):
        docs: list[dict] = []
        for k in range(2 * per_answer):
            key, want = keys[k % len(keys)], (k // len(keys)) % 2
            while True:
                text, answers = _headline(rng)
                if text not in seen and key in answers and int(answers[key]) == want:
                    break
            seen.add(text)
            docs.append({"headline": text, "question": HEADLINE_QUESTIONS[key], "question_key": key,
                         "label": want, "label_text": ["No", "Yes"][want]})
        rng.shuffle(docs)
        out[split] = [{"id": f"head-{split}-{i:04d}", **d} for i, d in enumerate(docs)]
    return out["test"], out["train"]


# --------------------------------------------------------------------------- output


def write_jsonl(path: Path, docs: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")


def generate(out_dir: Path) -> dict[str, int]:
    """Write all jsonl files into out_dir; return {file name: item count}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[dict]] = {}
    files["sentiment_test.jsonl"], files["sentiment_train.jsonl"] = make_sentiment(random.Random(SEED))
    files["numeric_test.jsonl"], files["numeric_train.jsonl"] = make_numeric(random.Random(SEED + 1))
    files["headline_test.jsonl"], files["headline_train.jsonl"] = make_headlines(random.Random(SEED + 2))
    for name, docs in files.items():
        write_jsonl(out_dir / name, docs)
    return {name: len(docs) for name, docs in files.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args()
    for name, n in generate(args.out_dir).items():
        print(f"{name}: {n}")


if __name__ == "__main__":
    main()
