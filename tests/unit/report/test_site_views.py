"""What the site shows beyond the numbers: readable settings, why a cell is empty, wrapped chart titles, and each
sample's prompt, output and requests as stored."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from harness.report.charts import TITLE_CHARS, line_chart
from harness.report.definitions import load_leaderboard
from harness.report.missing import column_gap, group_gap, score_gap
from harness.report.readable import flatten, readable
from harness.report.samples import requests_of, run_samples
from harness.report.table import build_table
from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs

BOARD = """name: two-groups
title: Two groups
groups:
  - name: finance
    title: Finance
    normalise: true
    columns:
      - {task: finance_sentiment, metric: acc, direction: higher, chance: 0.25}
      - {task: finance_headline, metric: acc, direction: higher, chance: 0.5}
  - name: reasoning
    columns:
      - {task: reasoning_arithmetic, metric: exact_match, direction: higher}
"""


def test_settings_flatten_to_rows_with_rounded_numbers():
    rows = dict(flatten({"seed": [0, 1234], "gen_kwargs": {"until": ["\n\nQ:", "</s>"], "temperature": 0.123456},
                         "model_args": {}, "chat_template": None, "apply_chat_template": False,
                         "duration_s": 123456.789}))
    assert rows == {"seed": "[0, 1234]", "gen_kwargs.until": '["\\n\\nQ:", "</s>"]', "gen_kwargs.temperature": "0.1235",
                    "model_args": "{}", "chat_template": "null", "apply_chat_template": "false",
                    "duration_s": "123,457"}
    assert readable(467.3812) == "467.4" and readable(0.04283151) == "0.04283" and readable(7) == "7"
    assert readable({"losses": [0.333333333, float("nan")]}) == '{"losses": [0.3333, NaN]}'
    assert flatten({}) == [] and flatten({"a": {"b": {"c": 1.0}}}) == [("a.b.c", "1")]


@pytest.fixture
def table(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [
        SyntheticRun("full", "finance_sentiment", {"acc": [1, 0, 0, 0]}),  # at chance
        SyntheticRun("full", "finance_headline", {"acc": [0, 0, 0, 1]}),  # below chance
        SyntheticRun("full", "reasoning_arithmetic", {"exact_match": [1, 0, 1, 0]}),
        SyntheticRun("half", "finance_sentiment", {"acc": [1, 1, 1, 1]}),
        SyntheticRun("half", "finance_headline", {"f1": [1, 1, 1, 1]}),  # a run without the column's metric
    ])
    (tmp_path / "board.yaml").write_text(BOARD)
    return build_table(load_leaderboard(str(tmp_path / "board.yaml")), store)


def test_every_empty_cell_says_why(table):
    board = table.board
    rows = {row.model: row for row in table.rows}
    finance, reasoning = board.scored_groups
    full, half = rows["full"], rows["half"]
    assert full.groups["finance"] < 0 and score_gap(full, board) is None and group_gap(full, finance) is None
    assert all(column_gap(full, column) is None for column in board.columns)
    headline, arithmetic = board.columns[1], board.columns[2]
    assert column_gap(half, headline).mark == "no metric"
    assert column_gap(half, headline).reason == "the run of finance_headline reported no acc"
    assert column_gap(half, arithmetic).reason == "no run for this task (reasoning_arithmetic)"
    gap = group_gap(half, finance)
    assert gap.mark == "1 of 2" and gap.reason.startswith("task group partially evaluated: 1 of 2 columns")
    assert "finance_headline acc: the run of finance_headline reported no acc" in gap.reason
    assert group_gap(half, reasoning).mark == "0 of 1"
    gap = score_gap(half, board)
    assert gap.mark == "0 of 2 groups" and gap.reason.endswith("missing: Finance, reasoning")


def test_a_long_chart_title_wraps_into_lines_and_loses_nothing():
    title = "Finance score against parameters for every <model> & family, a title far longer than one line " * 2
    svg = line_chart({"a": [(1.0, 0.5, "a"), (10.0, 0.75, "b")]}, title=title, x_label="x", y_label="y")
    lines = [html.unescape(line) for line in re.findall(r"<tspan [^>]*>([^<]*)</tspan>", svg)]
    assert len(lines) >= 3 and all(len(line) <= TITLE_CHARS for line in lines)
    assert " ".join(lines) == " ".join(title.split())
    height = int(re.search(r'height="(\d+)"', svg).group(1))
    short = line_chart({"a": [(1.0, 0.5, "a")]}, title="Short", x_label="x", y_label="y")
    assert height == int(re.search(r'height="(\d+)"', short).group(1)) + 16 * (len(lines) - 1)


def _sample(doc_id: int, **values) -> dict:
    return {"run_id": "r", "task": "t", "doc_id": doc_id, "output_type": "multiple_choice", "input": "Q?\nA:",
            "choices": json.dumps(["no", "yes"]), "target": "1", "prediction": json.dumps(doc_id % 2),
            "loglikelihoods": None, "raw_output": None, "loglikelihood": None, "token_count": None,
            "metrics": json.dumps(values), "doc": json.dumps({"question": "Q?", "meta": {"source": "x"}})}


def test_wrong_answers_follow_each_binary_metric_and_its_direction():
    run = {"run_id": "r", "metrics": [{"metric": "acc", "filter": "none", "higher_is_better": True},
                                      {"metric": "refused", "filter": "none", "higher_is_better": False},
                                      {"metric": "f1", "filter": "none", "higher_is_better": True}]}
    samples = [_sample(0, acc=0.0, refused=1.0, f1=0.5), _sample(1, acc=1.0, refused=0.0, f1=1.0)]
    page = run_samples(run, samples, {})
    assert page["wrong_metrics"] == ["acc", "refused"] and page["has_output"] is False  # f1 is not right-or-wrong
    first, second = page["samples"]
    assert first["wrong"] == ["acc", "refused"] and second["wrong"] == []
    assert first["prediction"] == "0: no" and first["target"] == "1: yes" and first["metrics"] == "acc 0, refused 1, f1 0.5"
    assert first["doc"] == [("question", "Q?"), ("meta.source", "x")] and first["output"] is None


def test_requests_come_from_the_store_with_their_context_only_where_it_differs(tmp_path: Path):
    store = Store(tmp_path / "s.duckdb")
    run_id = write_runs(store, [SyntheticRun("m", "finance_sentiment", {"acc": [1, 0]}, inputs=["P0", "P1"])])[0]
    requests = [{"run_id": run_id, "doc_id": 0, "idx": idx, "repeat": 0, "request_type": "loglikelihood",
                 "arguments": json.dumps(["P0", f" {choice}"]), "response": json.dumps([-1.234567, idx == 1]),
                 "cache_key": None} for idx, choice in enumerate(["no", "yes"])]
    requests.append({"run_id": run_id, "doc_id": 1, "idx": 0, "repeat": 0, "request_type": "generate_until",
                     "arguments": json.dumps(["P1 with its own context", {"until": ["\n"], "max_gen_toks": 8}]),
                     "response": json.dumps("Yes, because"), "cache_key": None})
    store.append(requests, [], [])
    found = requests_of(store, [run_id])
    assert found[(run_id, 0)] == [
        {"context": None, "sent": '" no"', "response": "log-likelihood -1.235"},
        {"context": None, "sent": '" yes"', "response": "log-likelihood -1.235, greedy"}]
    assert found[(run_id, 1)] == [{"context": "P1 with its own context", "sent": '{"until": ["\\n"], "max_gen_toks": 8}',
                                   "response": "Yes, because"}]
    assert requests_of(store, []) == {} and requests_of(Store(tmp_path / "none.duckdb"), [run_id]) == {}
