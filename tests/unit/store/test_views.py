"""The store's SQL views (finished_runs, latest_runs, sample_scores), its comments, and the v7 migration."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from harness.report.definitions import parse_leaderboard
from harness.report.table import build_table
from harness.store import SCHEMA_VERSION, Store, utcnow
from harness.store.schema import MIGRATIONS
from harness.store.synthetic import SyntheticRun, write_runs
from harness.store.views import VIEWS

BOARD = """name: b
title: B
groups:
  - name: finance
    columns:
      - {task: finance_sentiment, metric: acc, direction: higher}
      - {task: finance_headline, metric: acc, direction: higher}
"""


def _rows(store: Store, sql: str, params: list | None = None) -> list[tuple]:
    with store.reading() as conn:
        return conn.execute(sql, params or []).fetchall()


def _settings(store: Store, run_id: str, settings: dict) -> None:
    with store.writing() as conn:
        conn.execute("UPDATE runs SET settings = ? WHERE run_id = ?", [json.dumps(settings), run_id])


def test_latest_runs_keeps_one_run_per_model_revision_variant_strategy_and_task(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ids = write_runs(store, [
        SyntheticRun("alpha", "finance_sentiment", {"acc": [0, 0]}, age_s=100),  # older: not counted
        SyntheticRun("alpha", "finance_sentiment", {"acc": [1, 0]}),
        SyntheticRun("alpha@step1000", "finance_sentiment", {"acc": [1, 1]}, revision="step1000"),
        SyntheticRun("alpha", "finance_sentiment", {"acc": [0, 1]}, prompt_strategy="direct", age_s=50),
        SyntheticRun("alpha", "finance_sentiment", {"acc": [1, 1]}, prompt_strategy="direct", age_s=60,
                     output_type="multiple_choice"),  # log-likelihood: the strategy does not key it
        SyntheticRun("alpha", "finance_headline", {"acc": [1, 1]}, limit=2),
        SyntheticRun("alpha", "finance_headline", {"acc": [0, 0]}, age_s=10),  # older than the limited one
    ])
    adapted = write_runs(store, [SyntheticRun("alpha", "finance_sentiment", {"acc": [0, 0]})])[0]
    _settings(store, adapted, {"adapter": "/models/adapters/positive-lora/", "quantization": "nf4"})
    found = {row[0]: row[1:] for row in _rows(
        store, "SELECT run_id, model_name, revision, variant, prompt_strategy, task, complete FROM latest_runs")}
    assert found == {
        ids[1]: ("alpha", None, None, None, "finance_sentiment", True),
        ids[2]: ("alpha", "step1000", None, None, "finance_sentiment", True),
        ids[3]: ("alpha", None, None, "direct", "finance_sentiment", True),
        ids[5]: ("alpha", None, None, None, "finance_headline", False),
        adapted: ("alpha", None, "nf4+lora:positive-lora", None, "finance_sentiment", True),
    }
    # exactly the runs the leaderboard counts
    table = build_table(parse_leaderboard(_board(tmp_path)), store)
    assert {run["run_id"] for row in table.rows for run in row.runs} == set(found)


def _board(tmp_path):
    path = tmp_path / "board.yaml"
    path.write_text(BOARD)
    return path


def test_unfinished_runs_are_in_no_view(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    store.create_runs([{"run_id": "r1", "invocation_id": "i", "model": "m", "model_fingerprint": "f", "task": "t",
                        "task_hash": "h", "status": "running", "started_at": utcnow()}])
    assert _rows(store, "SELECT count(*) FROM finished_runs") == [(0,)]
    assert _rows(store, "SELECT count(*) FROM latest_runs") == [(0,)]


def test_sample_scores_has_a_double_per_sample_and_numeric_metric(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    (single,) = write_runs(store, [SyntheticRun("m", "finance_sentiment", {"acc": [1, 0, 1]})])
    (multi,) = write_runs(store, [SyntheticRun("m", "finance_numeric", {"exact_match,strict": [1, 0]},
                                               filter="strict")])
    sample = {"run_id": "r", "task": "t", "doc_id": 0, "output_type": "generate_until", "input": "q",
              "choices": None, "target": None, "prediction": None, "loglikelihoods": None, "raw_output": None,
              "loglikelihood": None, "token_count": None, "doc": None}
    weird = {"correct": True, "bleu": ["reference", "prediction"], "ppl": float("nan"), "none": None}
    store.append([], [sample | {"metrics": json.dumps(weird)}, sample | {"doc_id": 1, "metrics": None}], [])
    scores = _rows(store, "SELECT run_id, doc_id, metric, filter, value FROM sample_scores "
                          "ORDER BY run_id, doc_id, metric")
    by_run = {run_id: [row[1:] for row in scores if row[0] == run_id] for run_id in (single, multi, "r")}
    assert by_run[single] == [(0, "acc", "none", 1.0), (1, "acc", "none", 0.0), (2, "acc", "none", 1.0)]
    assert by_run[multi] == [(0, "exact_match", "strict", 1.0), (1, "exact_match", "strict", 0.0)]
    (correct, ppl) = by_run["r"]  # true reads as 1; pairs and nulls are no scores; NaN stays NaN
    assert correct == (0, "correct", None, 1.0) and ppl[:3] == (0, "ppl", None) and math.isnan(ppl[3])
    (mean,) = _rows(store, "SELECT avg(value) FROM sample_scores WHERE run_id = ?", [single])[0]
    metric = Store(store.path).get_run(single)["metrics"][0]
    assert mean == pytest.approx(metric["value"])  # the mean of the per-sample values is the stored metric
    types = dict(_rows(store, "SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_name = 'sample_scores'"))
    assert types["value"] == "DOUBLE"


def test_every_table_view_and_column_carries_a_comment(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    store.ensure_ready()
    tables = _rows(store, "SELECT table_name, comment FROM duckdb_tables() UNION ALL "
                          "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal")
    assert {name for name, _ in tables} >= {"runs", "metrics", "samples", "requests", "tags", "meta", *VIEWS}
    assert all(comment for _, comment in tables), tables
    missing = _rows(store, "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND "
                           "(comment IS NULL OR comment = '')")
    assert missing == []


def _old_store(path, version: int) -> None:
    with duckdb.connect(str(path)) as conn:
        for step in MIGRATIONS[:version]:
            step(conn) if callable(step) else conn.execute(step)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(version)])
        conn.execute("INSERT INTO runs (run_id, invocation_id, model, model_fingerprint, task, task_hash, status, "
                     "started_at, settings, output_type, samples_per_s) VALUES ('old', 'i', 'm', 'f', "
                     "'finance_sentiment', 'h', 'finished', now(), '{\"limit\": 5}', 'multiple_choice', 3.5)")
        conn.execute("INSERT INTO metrics VALUES ('old', 'finance_sentiment', 'acc', 'none', 0.5, 0.1, 5, true)")
        conn.execute("INSERT INTO samples (run_id, task, doc_id, metrics) VALUES "
                     "('old', 'finance_sentiment', 0, '{\"acc\": 1}')")


def test_a_v6_store_gains_the_answer_counts_and_the_views(tmp_path):
    path = tmp_path / "v6.duckdb"
    _old_store(path, 6)
    store = Store(path)
    (run,) = store.list_runs()  # reading migrates
    assert SCHEMA_VERSION == 7 and run["n_model_answers"] is None and run["n_cached_answers"] is None
    assert run["samples_per_s"] == 3.5  # existing columns keep their values
    assert _rows(store, "SELECT run_id, model_name, complete FROM latest_runs") == [("old", "m", False)]
    assert _rows(store, "SELECT run_id, metric, filter, value FROM sample_scores") == [
        ("old", "acc", "none", 1.0)]
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("7",)

