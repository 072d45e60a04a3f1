"""Fault drills: ``kill -9`` at moments drawn from a seeded generator (during start-up, evaluation, store
transactions and leaderboard builds), then resume or rebuild; and many writers and readers on one store."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from harness.store import Store
from tests.helpers import REPO

pytestmark = pytest.mark.slow
SEED = 20261128


def harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def killed_at(command: list[str], seconds: float) -> bool:
    """Run ``command`` and kill -9 it after ``seconds``; whether it was still running then."""
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return True


def test_twenty_kills_then_resume_lose_and_repeat_no_sample(tmp_path, tiny_pythia_path):
    rng = random.Random(SEED)
    db = tmp_path / "killed.duckdb"
    run = ["run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--limit", "80", "--batch-size", "1",
           "--no-cache", "--quiet", "--format", "json"]  # no cache: a resumed run reuses only its own responses
    kills = 0
    for attempt in range(20):
        kills += killed_at(harness(*run, "--db", str(db), *(["--resume"] if attempt else [])), rng.uniform(1.0, 8.0))
        if db.exists():
            Store(db).list_runs()  # the store opens after every kill
    assert kills >= 15
    finished = subprocess.run(harness(*run, "--db", str(db), "--resume"), cwd=REPO, capture_output=True, text=True,
                              timeout=600)
    assert finished.returncode == 0, finished.stderr
    reference = tmp_path / "reference.duckdb"
    subprocess.run(harness(*run, "--db", str(reference)), cwd=REPO, check=True, capture_output=True, timeout=600)
    (theirs,) = Store(reference).list_runs()
    want = Store(reference).sample_rows(theirs["run_id"])
    finished = [r for r in Store(db).list_runs() if r["status"] == "finished"]
    assert finished
    for run_row in finished:  # the one resumed to the end, and any that finished between kills
        got = Store(db).sample_rows(run_row["run_id"])
        assert [s["doc_id"] for s in got] == [s["doc_id"] for s in want] == list(range(80))  # each exactly once
        assert [s["prediction"] for s in got] == [s["prediction"] for s in want]
        worst = max(abs(a - b) for g, w in zip(got, want) for a, b in zip(g["loglikelihoods"], w["loglikelihoods"]))
        assert worst <= 1e-5


def test_a_killed_leaderboard_build_leaves_the_site_whole(tmp_path, tiny_pythia_path):
    from harness.store.synthetic import SyntheticRun, write_runs

    rng = random.Random(SEED + 1)
    db = tmp_path / "board.duckdb"
    write_runs(Store(db), [SyntheticRun(f"model-{i}", task, {"acc": [float((i + d) % 2) for d in range(200)]})
                           for i in range(30) for task in ("finance_sentiment", "finance_headline")])
    out = tmp_path / "site"
    build = harness("leaderboard", "llm-2023", "--out", str(out), "--db", str(db))
    subprocess.run(build, cwd=REPO, check=True, capture_output=True, timeout=300)
    for _ in range(6):
        killed_at(build, rng.uniform(1.5, 6.0))
        index = (out / "index.html").read_text()
        assert index.rstrip().endswith("</html>")
        pages = {p.name for p in (out / "runs").iterdir()}
        assert len(pages) == 60 and all(f'href="runs/{name}"' in index for name in pages)
    subprocess.run(build, cwd=REPO, check=True, capture_output=True, timeout=300)
    assert [p.name for p in tmp_path.glob(".site.*")] == [out.resolve().name]


READER = """
import sys, time
from pathlib import Path
from harness.store import Store
store, reads = Store(sys.argv[1]), 0
while not Path(sys.argv[2]).exists():
    if store.path.exists():
        store.list_runs()
        reads += 1
    time.sleep(0.2)
print(reads)
"""


def test_sixteen_writers_and_four_readers_on_one_store_all_land(tmp_path, tiny_pythia_path):
    db, done = tmp_path / "busy.duckdb", tmp_path / "done"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(db), str(done)], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    writers = [subprocess.Popen(harness("run", "--model", "tiny-pythia", "--task", "finance_headline", "--limit", "3",
                                        "--no-cache", "--quiet", "--tag", f"w{i}", "--db", str(db)),
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for i in range(16)]
    try:
        errors = [writer.communicate(timeout=600)[1] for writer in writers]
        done.touch()
        reads = [reader.communicate(timeout=120) for reader in readers]
    finally:  # a failure leaves no process behind
        done.touch()
        for process in writers + readers:
            process.kill()
    for writer, err in zip(writers, errors):
        assert writer.returncode == 0, err
    for reader, (out, err) in zip(readers, reads):
        assert reader.returncode == 0 and int(out) > 0, err
    runs = Store(db).list_runs()
    unfinished = [{k: r[k] for k in ("run_id", "status", "pid", "started_at", "heartbeat_at", "finished_at", "error")}
                  for r in runs if r["status"] != "finished"]
    assert len(runs) == 16 and not unfinished, (unfinished, [e[-300:] for e in errors])
    assert all(Store(db).count("samples", r["run_id"]) == 3 for r in runs)
