"""End to end through the CLI: run, runs, show, and what lands in the store."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.helpers import cli_json, run_cli

RUN_KEYS = {"run_id", "invocation_id", "model", "model_fingerprint", "task", "status", "started_at"}


@pytest.fixture(scope="module")
def finance_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("finance") / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance", "--limit", "12", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db, proc


def test_finance_makes_three_runs_sharing_an_invocation(finance_store):
    db, proc = finance_store
    runs = cli_json("runs", "--format", "json", "--db", str(db))
    assert len(runs) == 3
    assert RUN_KEYS <= set(runs[0])
    assert {r["task"] for r in runs} == {"finance_sentiment", "finance_numeric", "finance_headline"}
    assert len({r["invocation_id"] for r in runs}) == 1
    assert all(r["status"] == "finished" for r in runs)
    assert all(r["model_fingerprint"].startswith("tiny-pythia@sha256:") for r in runs)
    for run in runs:  # every run id is printed
        assert run["run_id"] in proc.stderr + proc.stdout


def test_summary_table_lists_every_metric(finance_store):
    _, proc = finance_store
    for metric in ("acc", "acc_norm", "exact_match"):
        assert f" {metric} " in proc.stdout
    assert "±" in proc.stdout
    assert "backend: transformers" in proc.stderr  # the automatic choice is printed
    assert "requests" in proc.stderr  # plain progress lines when not on a terminal


def test_store_holds_every_sample_request_and_metric(finance_store):
    db, _ = finance_store
    with duckdb.connect(str(db), read_only=True) as conn:
        runs = dict(conn.execute("SELECT task, run_id FROM runs").fetchall())
        per_run = dict(conn.execute("SELECT run_id, count(*) FROM samples GROUP BY run_id").fetchall())
        requests = dict(conn.execute("SELECT run_id, count(*) FROM requests GROUP BY run_id").fetchall())
        metrics = conn.execute("SELECT task, metric, filter, value, stderr, n FROM metrics ORDER BY task, metric")\
            .fetchall()
        row = conn.execute("SELECT settings, versions, task_hash, settings_hash, samples_per_s, finished_at, "
                           "started_at FROM runs WHERE task = 'finance_sentiment'").fetchone()
    assert all(per_run[runs[t]] == 12 for t in runs)
    assert requests[runs["finance_sentiment"]] == 36  # three choices per sentence
    assert requests[runs["finance_headline"]] == 24
    assert requests[runs["finance_numeric"]] == 12
    names = {(t, m, f) for t, m, f, *_ in metrics}
    assert names == {("finance_headline", "acc", "none"), ("finance_sentiment", "acc", "none"),
                     ("finance_sentiment", "acc_norm", "none"), ("finance_numeric", "exact_match", "extract-number")}
    assert all(n == 12 and 0 <= v <= 1 for *_, v, _, n in metrics)
    settings, versions, task_hash, settings_hash, rate, finished, started = row
    settings, versions = json.loads(settings), json.loads(versions)
    assert settings["limit"] == 12 and settings["num_fewshot"] == 0 and settings["seed"] == [0, 1234, 1234, 1234]
    assert {"harness", "lm_eval", "transformers", "torch"} <= set(versions)
    assert len(task_hash) == 64 and len(settings_hash) == 64 and rate > 0 and finished >= started


def test_show_json_shape(finance_store):
    db, _ = finance_store
    ids = [r["run_id"] for r in cli_json("runs", "--format", "json", "--db", str(db))]
    run_id = ids[0]
    shown = cli_json("show", run_id, "--format", "json", "--db", str(db))
    assert set(shown) == {"run", "metrics"}
    assert shown["run"]["run_id"] == run_id
    assert shown["metrics"] and set(shown["metrics"][0]) >= {"task", "metric", "filter", "value", "stderr", "n"}
    # the shortest prefix no other run shares (runs started in the same second share 16 characters)
    prefix = next(run_id[:n] for n in range(16, len(run_id) + 1) if sum(i.startswith(run_id[:n]) for i in ids) == 1)
    assert cli_json("show", prefix, "--format", "json", "--db", str(db))["run"]["run_id"] == run_id


def test_mixtral_run_json_and_matching_sample_scores(db):
    results = cli_json("run", "--model", "tiny-mixtral", "--task", "finance_sentiment,finance_numeric",
                       "--limit", "6", "--db", str(db), "--format", "json", "--quiet")
    assert [r["task"] for r in results] == ["finance_sentiment", "finance_numeric"]
    sentiment = next(r for r in results if r["task"] == "finance_sentiment")
    acc = next(m["value"] for m in sentiment["metrics"] if m["metric"] == "acc")
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("SELECT target, prediction, metrics FROM samples WHERE run_id = ?",
                            [sentiment["run_id"]]).fetchall()
    # the run's accuracy is the mean of per-sample correctness recomputed from stored predictions
    assert acc == pytest.approx(sum(json.loads(t) == json.loads(p) for t, p, _ in rows) / len(rows))
    assert all(json.loads(m)["acc"] == float(json.loads(t) == json.loads(p)) for t, p, m in rows)


def test_runs_on_an_empty_store_is_an_empty_list(db):
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []
    assert not db.exists()  # listing creates nothing


def test_delete_removes_run_and_samples(db):
    results = cli_json("run", "--model", "tiny-pythia", "--task", "finance_headline", "--limit", "3",
                       "--db", str(db), "--format", "json", "--quiet")
    run_id = results[0]["run_id"]
    proc = run_cli("delete", run_id, "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] == 0


def test_every_command_has_help():
    for command in ("run", "runs", "show", "export", "delete", "models", "tasks", "doctor"):
        proc = run_cli(command, "--help")
        assert proc.returncode == 0 and "usage: harness" in proc.stdout
