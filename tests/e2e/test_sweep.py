"""harness sweep: planning, skipping finished work, retries, and one writer; locally and on a Ray cluster."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.helpers import cli_json, run_cli

TASKS = "finance_sentiment,finance_numeric"
MODELS = "tiny-pythia,tiny-llama-2"


def finished_runs(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return sorted(conn.execute("SELECT model, task FROM runs WHERE status = 'finished'").fetchall())


def sweep_json(*args: str, env: dict | None = None, expect: int = 0) -> dict:
    proc = run_cli("sweep", *args, "--format", "json", env=env)
    assert proc.returncode == expect, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_local_sweep_runs_each_job_once_and_skips_finished_ones(db):
    first = sweep_json("--models", MODELS, "--tasks", TASKS, "--limit", "6", "--db", str(db))
    assert [(j["model"], j["task"], j["status"], j["attempts"]) for j in first["jobs"]] == [
        ("tiny-pythia", "finance_sentiment", "finished", 1), ("tiny-pythia", "finance_numeric", "finished", 1),
        ("tiny-llama-2", "finance_sentiment", "finished", 1), ("tiny-llama-2", "finance_numeric", "finished", 1)]
    landed = finished_runs(db)
    assert landed == sorted((m, t) for m in MODELS.split(",") for t in TASKS.split(","))

    again = sweep_json("--models", MODELS, "--tasks", TASKS, "--limit", "6", "--db", str(db))
    assert {j["status"] for j in again["jobs"]} == {"skipped"}
    assert [j["run_ids"] for j in again["jobs"]] == [j["run_ids"] for j in first["jobs"]]
    assert finished_runs(db) == landed

    changed = sweep_json("--models", "tiny-pythia", "--tasks", "finance_sentiment", "--limit", "7", "--db", str(db))
    assert changed["jobs"][0]["status"] == "finished"  # another limit is another request


def test_a_group_job_runs_only_the_leaves_no_finished_run_answers(db):
    """A finished ``harness run`` with the same settings counts: the sweep asks for what it has not got."""
    cli_json("run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--limit", "5", "--db", str(db),
             "--format", "json")
    result = sweep_json("--models", "tiny-pythia", "--tasks", "finance", "--limit", "5", "--db", str(db))
    job = result["jobs"][0]
    assert job["status"] == "finished" and len(job["run_ids"]) == 3
    assert [t for _, t in finished_runs(db)] == ["finance_headline", "finance_numeric", "finance_sentiment"]


def test_a_failing_job_is_retried_then_recorded_and_the_sweep_goes_on(db):
    # a prompt strategy cannot apply to a log-likelihood task: that job fails every time, the other finishes
    proc = run_cli("sweep", "--models", "tiny-pythia", "--tasks", TASKS, "--limit", "4", "--prompt-strategy",
                   "step-by-step", "--max-retries", "1", "--db", str(db))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "failed tiny-pythia finance_sentiment after 2 attempt(s)" in proc.stderr
    assert "retrying" in proc.stderr
    table = proc.stdout
    assert "finance_numeric" in table and "finished" in table and "failed" in table
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("SELECT task, status, attempts, error FROM sweep_jobs ORDER BY job").fetchall()
    assert rows[0][:3] == ("finance_sentiment", "failed", 2) and "prompt-strategy" in rows[0][3]
    assert rows[1][:3] == ("finance_numeric", "finished", 1)


@pytest.mark.parametrize("args, message", [
    (["--executor", "local", "--address", "auto"], "--address joins a Ray cluster"),
    (["--workers", "2"], "--workers needs --executor ray"),
    (["--max-retries", "-1"], "--max-retries -1 must be 0 or more"),
    (["--revisions", "step1000"], "tiny-pythia has none of the revisions asked for; it offers step0"),
    (["--limit", "0"], "--limit 0 must be positive"),
])
def test_bad_sweep_input_is_one_line_before_any_job(db, args, message):
    proc = run_cli("sweep", "--models", "tiny-pythia", "--tasks", "finance_sentiment", "--db", str(db), *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert not db.exists() or finished_runs(db) == []


# -- on Ray ------------------------------------------------------------------------------------------
@pytest.fixture
def ray_env(tmp_path):
    """Ray's token and session files in throwaway folders (its socket paths must stay short)."""
    ray_tmp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "RAY_TMPDIR": str(ray_tmp)}
    yield env
    shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.fixture
def ray_cluster(ray_env):
    """A local Ray cluster of two CPUs started with ``ray start``, as on a real head node."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, **ray_env}
    start = subprocess.run([ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--node-ip-address=127.0.0.1",
                            "--include-dashboard=false", "--disable-usage-stats"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert start.returncode == 0, start.stderr[-2000:]
    yield f"127.0.0.1:{port}"
    subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)


def _kill_one_job_worker(stop: threading.Event, killed: list[int]) -> None:
    """Kill the first Ray worker seen running a sweep job, once it has run for a second."""
    import psutil

    seen: dict[int, float] = {}
    while not stop.is_set() and not killed:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if cmdline.startswith("ray::harness-job-"):
                first = seen.setdefault(proc.info["pid"], time.monotonic())
                if time.monotonic() - first > 1.0:
                    proc.kill()
                    killed.append(proc.info["pid"])
                    return
        time.sleep(0.1)


def test_ray_sweep_with_two_workers_survives_a_killed_worker_and_skips_on_rerun(db, ray_cluster, ray_env):
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_one_job_worker, args=(stop, killed))
    killer.start()
    try:
        result = sweep_json("--models", MODELS, "--tasks", TASKS, "--limit", "30", "--executor", "ray", "--address",
                            ray_cluster, "--workers", "2", "--max-retries", "2", "--db", str(db), env=ray_env)
    finally:
        stop.set()
        killer.join()
    assert killed, "no sweep job was seen running on the cluster"
    assert [j["status"] for j in result["jobs"]] == ["finished"] * 4
    assert sorted(j["attempts"] for j in result["jobs"]) == [1, 1, 1, 2]  # the killed job ran again
    assert finished_runs(db) == sorted((m, t) for m in MODELS.split(",") for t in TASKS.split(","))
    with duckdb.connect(str(db), read_only=True) as conn:
        samples = conn.execute("SELECT count(*), count(DISTINCT (run_id, doc_id)) FROM samples").fetchone()
    assert samples[0] == samples[1] == 2 * (30 + 30)  # every sample once

    again = sweep_json("--models", MODELS, "--tasks", TASKS, "--limit", "30", "--executor", "ray", "--address",
                       ray_cluster, "--db", str(db), env=ray_env)
    assert [j["status"] for j in again["jobs"]] == ["skipped"] * 4


def test_ray_sweep_starts_a_local_cluster_when_given_no_address(db, ray_env):
    """The issue's command, on a smaller limit: every run lands, and a second invocation skips them all."""
    first = sweep_json("--models", MODELS, "--tasks", "finance", "--limit", "5", "--executor", "ray", "--db", str(db),
                       env=ray_env)
    assert [j["status"] for j in first["jobs"]] == ["finished", "finished"]
    assert len(finished_runs(db)) == 6
    again = sweep_json("--models", MODELS, "--tasks", "finance", "--limit", "5", "--executor", "ray", "--db", str(db),
                       env=ray_env)
    assert [j["status"] for j in again["jobs"]] == ["skipped", "skipped"]


def test_data_parallel_engines_answer_exactly_as_one_engine(tmp_path, ray_env):
    """Two transformers engines as Ray actors: the same per-sample outputs as one engine."""
    outputs = {}
    for size in (1, 2):
        db = tmp_path / f"dp{size}.duckdb"
        flags = ["--data-parallel-size", "2"] if size == 2 else []
        results = cli_json("run", "--model", "tiny-pythia", "--task", "finance", "--limit", "12", "--no-cache",
                           "--db", str(db), "--format", "json", *flags, env=ray_env)
        with duckdb.connect(str(db), read_only=True) as conn:
            outputs[size] = conn.execute("SELECT task, doc_id, loglikelihoods, prediction, raw_output FROM samples "
                                         "ORDER BY task, doc_id").fetchall()
            settings = json.loads(conn.execute("SELECT settings FROM runs LIMIT 1").fetchone()[0])
        assert settings["data_parallel_size"] == size
        assert len(results) == 3
    assert len(outputs[1]) == 36
    for one, two in zip(outputs[1], outputs[2], strict=True):
        assert one[:2] == two[:2] and one[3:] == two[3:]  # same predictions and generated text
        if one[2] is not None:
            assert json.loads(one[2]) == pytest.approx(json.loads(two[2]), abs=1e-5)
