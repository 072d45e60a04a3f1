"""Several processes on one store, and runs killed without warning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from harness.store import Store
from tests.helpers import REPO, cli_json


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def test_four_runs_on_one_store_all_land(db):
    procs = [_spawn("run", "--model", "tiny-pythia", "--task", "finance_headline", "--limit", str(8 + i),
                    "--batch-size", "2", "--db", str(db), "--quiet") for i in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    runs = cli_json("runs", "--format", "json", "--db", str(db))
    assert len(runs) == 4 and all(r["status"] == "finished" for r in runs)
    store = Store(db)
    assert sorted(store.count("samples", r["run_id"]) for r in runs) == [8, 9, 10, 11]


def _wait_for_samples(store: Store, proc: subprocess.Popen, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        runs = store.list_runs() if store.path.exists() else []
        if runs and store.count("samples", runs[0]["run_id"]) >= 3:
            return runs[0]["run_id"]
        time.sleep(0.5)
    raise AssertionError("the run stored no samples in time")


def test_kill_9_is_detected_as_interrupted_and_keeps_samples(db):
    # generation one sample at a time is slow enough to be killed mid-way
    proc = _spawn("run", "--model", "tiny-pythia", "--task", "finance_numeric", "--batch-size", "1",
                  "--gen-kwargs", "max_gen_toks=64", "--db", str(db))
    store = Store(db)
    run_id = _wait_for_samples(store, proc)
    during = cli_json("runs", "--format", "json", "--db", str(db))  # another terminal during the run
    assert during[0]["run_id"] == run_id and during[0]["status"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    after = cli_json("show", run_id, "--format", "json", "--db", str(db))
    assert after["run"]["status"] == "interrupted"
    kept = store.count("samples", run_id)
    assert 3 <= kept < 192 and store.count("requests", run_id) >= kept
    assert after["metrics"] == []


def test_sigterm_marks_the_run_interrupted(db):
    proc = _spawn("run", "--model", "tiny-pythia", "--task", "finance_numeric", "--batch-size", "1",
                  "--gen-kwargs", "max_gen_toks=64", "--db", str(db))
    store = Store(db)
    run_id = _wait_for_samples(store, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    with store.reading() as conn:  # written by the process itself, not inferred
        status, error = conn.execute("SELECT status, error FROM runs WHERE run_id = ?", [run_id]).fetchone()
    assert status == "interrupted" and "signal" in error
    assert store.count("samples", run_id) >= 3
