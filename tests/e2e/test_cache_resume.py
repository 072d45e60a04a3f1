"""The request cache (keyed by model, settings and request) and --resume after a kill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import duckdb

from harness.store import Store
from tests.helpers import REPO, cli_json, run_cli

HEADLINE = ("run", "--task", "finance_headline", "--limit", "10", "--format", "json")


def _samples(db, run_id):
    return [(s["doc_id"], s["loglikelihoods"], s["prediction"], s["raw_output"], s["metrics"])
            for s in Store(db).sample_rows(run_id)]


def test_a_rerun_makes_no_model_calls_and_another_model_reuses_nothing(db, tmp_path):
    first = run_cli(*HEADLINE, "--model", "tiny-pythia", "--db", str(db))
    second = run_cli(*HEADLINE, "--model", "tiny-pythia", "--db", str(db))
    assert first.returncode == second.returncode == 0, second.stderr
    assert "cache" not in first.stderr
    assert "0 requests resumed, 20 answered from the cache, no model calls" in second.stderr
    import json

    a, b = json.loads(first.stdout)[0], json.loads(second.stdout)[0]
    assert a["run_id"] != b["run_id"] and a["metrics"] == b["metrics"]
    assert _samples(db, a["run_id"]) == _samples(db, b["run_id"])
    # where the answers came from; the replay measured the cache, so it has no throughput
    assert (a["n_model_answers"], a["n_cached_answers"], b["n_model_answers"], b["n_cached_answers"]) == (20, 0, 0, 20)
    shown_a, shown_b = (cli_json("show", r["run_id"], "--format", "json", "--db", str(db))["run"] for r in (a, b))
    assert shown_a["samples_per_s"] > 0 and shown_b["samples_per_s"] is None and shown_b["requests_per_s"] is None
    assert (shown_b["n_model_answers"], shown_b["n_cached_answers"]) == (0, 20)
    text = run_cli("show", b["run_id"], "--db", str(db)).stdout
    assert re.search(r"^n_model_answers +0$", text, re.M) and re.search(r"^n_cached_answers +20$", text, re.M)
    assert first.stderr.count("warning: --limit 10 scores each task on its first 10 samples only") == 1
    board = tmp_path / "board.yaml"  # the replay is the latest run: the throughput chart has no point for it
    board.write_text("name: b\ntitle: B\ngroups:\n  - name: g\n    columns:\n      - {task: finance_headline, "
                     "metric: acc, direction: higher}\nplots:\n  - {title: Speed, y: g, x: samples_per_s}\n")
    assert run_cli("leaderboard", str(board), "--out", str(tmp_path / "site"), "--db", str(db)).returncode == 0
    assert "No data yet for: Speed" in (tmp_path / "site" / "index.html").read_text()
    other = run_cli(*HEADLINE, "--model", "tiny-llama-2", "--db", str(db))  # same prompts, another model
    assert other.returncode == 0 and "cache" not in other.stderr
    fresh = run_cli(*HEADLINE, "--model", "tiny-pythia", "--no-cache", "--db", str(db))
    assert fresh.returncode == 0 and "cache" not in fresh.stderr


def test_sampled_generations_are_not_cached(db):
    args = ("run", "--model", "tiny-pythia", "--task", "finance_numeric", "--limit", "3", "--gen-kwargs",
            "do_sample=true,temperature=0.8,max_gen_toks=4", "--db", str(db), "--quiet")
    assert run_cli(*args).returncode == 0
    again = run_cli(*args)
    assert again.returncode == 0 and "cache" not in again.stderr


def test_resume_after_kill_equals_an_uninterrupted_run(tmp_path):
    killed_db, reference_db = tmp_path / "killed.duckdb", tmp_path / "reference.duckdb"
    args = ["run", "--model", "tiny-pythia", "--task", "finance_numeric", "--limit", "40", "--batch-size", "1",
            "--gen-kwargs", "max_gen_toks=64"]
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *args, "--db", str(killed_db)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    store = Store(killed_db)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = store.list_runs() if killed_db.exists() else []
        if runs and store.count("samples", runs[0]["run_id"]) >= 3:
            break
        time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    run_id = store.list_runs()[0]["run_id"]
    done_before = store.count("requests", run_id)
    assert 3 <= done_before < 40

    resumed = run_cli(*args, "--resume", "--db", str(killed_db))
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id}: resuming" in resumed.stderr
    assert f"{done_before} requests resumed" in resumed.stderr
    reference = cli_json(*args, "--no-cache", "--format", "json", "--quiet", "--db", str(reference_db))
    runs = cli_json("runs", "--format", "json", "--db", str(killed_db))
    assert [(r["run_id"], r["status"]) for r in runs] == [(run_id, "finished")]
    assert (runs[0]["n_model_answers"], runs[0]["n_cached_answers"]) == (40, 0)  # the run's own, across attempts
    assert _samples(killed_db, run_id) == _samples(reference_db, reference[0]["run_id"])
    with duckdb.connect(str(killed_db), read_only=True) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT (doc_id, idx, repeat)) FROM requests "
                                       "WHERE run_id = ?", [run_id]).fetchone()
        doc_rows = conn.execute("SELECT count(*), count(DISTINCT doc_id) FROM samples WHERE run_id = ?",
                                [run_id]).fetchone()
    assert total == distinct == 40 and doc_rows == (40, 40)
    again = run_cli(*args, "--resume", run_id, "--db", str(killed_db))
    assert again.returncode == 2 and "is finished" in again.stderr
