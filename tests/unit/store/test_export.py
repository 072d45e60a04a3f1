"""Export round trips: JSONL, CSV and Parquet hold exactly what the store holds."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from harness.store import SCHEMA_VERSION, Store
from tests.helpers import cli_json, run_cli

MC_KEYS = {"schema_version", "run_id", "task", "doc_id", "input", "choices", "target", "prediction",
           "loglikelihoods", "metrics"}
GEN_KEYS = {"schema_version", "run_id", "task", "doc_id", "input", "target", "prediction", "raw_output", "metrics"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    db = tmp_path_factory.mktemp("export") / "store.duckdb"
    results = cli_json("run", "--model", "tiny-llama-2", "--task", "finance_sentiment,finance_numeric",
                       "--limit", "5", "--db", str(db), "--format", "json", "--quiet")
    return db, {r["task"]: r["run_id"] for r in results}


def _stored(db, run_id):
    return Store(db).sample_rows(run_id)


def test_jsonl_multiple_choice_rows(runs, tmp_path):
    db, ids = runs
    out = tmp_path / "mc.jsonl"
    assert run_cli("export", ids["finance_sentiment"], "--format", "jsonl", "--out", str(out),
                   "--db", str(db)).returncode == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    stored = _stored(db, ids["finance_sentiment"])
    assert len(rows) == len(stored) == 5
    for row, sample in zip(rows, stored):
        assert set(row) == MC_KEYS and row["schema_version"] == SCHEMA_VERSION
        assert isinstance(row["doc_id"], int) and row["choices"] == ["negative", "neutral", "positive"]
        assert row["loglikelihoods"] == sample["loglikelihoods"]
        assert row["prediction"] == max(range(3), key=row["loglikelihoods"].__getitem__)
        assert row["target"] == sample["doc"]["label"]
        assert row["metrics"]["acc"] == float(row["prediction"] == row["target"])


def test_jsonl_generation_rows_to_stdout(runs):
    db, ids = runs
    proc = run_cli("export", ids["finance_numeric"], "--db", str(db))
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 5 and all(set(r) == GEN_KEYS for r in rows)
    for row in rows:
        assert isinstance(row["target"], str) and isinstance(row["raw_output"], str)
        assert set(row["metrics"]) == {"exact_match"}


def test_csv_round_trip(runs, tmp_path):
    db, ids = runs
    out = tmp_path / "mc.csv"
    assert run_cli("export", ids["finance_sentiment"], "--format", "csv", "--out", str(out),
                   "--db", str(db)).returncode == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    stored = _stored(db, ids["finance_sentiment"])
    assert [int(r["doc_id"]) for r in rows] == [s["doc_id"] for s in stored]
    for row, sample in zip(rows, stored):
        assert json.loads(row["choices"]) == sample["choices"]  # lists are JSON-encoded cells
        assert json.loads(row["loglikelihoods"]) == sample["loglikelihoods"]
        assert json.loads(row["metrics"]) == sample["metrics"]
        assert int(row["schema_version"]) == SCHEMA_VERSION


def test_parquet_round_trip(runs, tmp_path):
    db, ids = runs
    out = tmp_path / "gen.parquet"
    assert run_cli("export", ids["finance_numeric"], "--format", "parquet", "--out", str(out),
                   "--db", str(db)).returncode == 0
    table = pq.read_table(out)
    assert table.schema.metadata[b"harness_schema_version"] == str(SCHEMA_VERSION).encode()
    rows = table.to_pylist()
    stored = _stored(db, ids["finance_numeric"])
    assert [r["raw_output"] for r in rows] == [s["raw_output"] for s in stored]
    assert [r["metrics"] for r in rows] == [s["metrics"] for s in stored]


def test_parquet_needs_a_file(runs):
    db, ids = runs
    proc = run_cli("export", ids["finance_numeric"], "--format", "parquet", "--db", str(db))
    assert proc.returncode == 2 and "--out" in proc.stderr
