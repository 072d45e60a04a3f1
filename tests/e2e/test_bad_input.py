"""Bad input: one clear line, exit 2, and nothing written to the store."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from tests.helpers import run_cli

RUN = ("run", "--model", "tiny-pythia", "--task", "finance_headline", "--limit", "2")


def _runs_in(db) -> int:
    if not db.exists():
        return 0
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0] if "runs" in tables else 0


def _assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr  # informational lines may precede it
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_unknown_model_suggests_a_name(db):
    proc = run_cli("run", "--model", "tiny-pythya", "--task", "finance", "--db", str(db))
    _assert_one_line_error(proc, "unknown model 'tiny-pythya'", "did you mean 'tiny-pythia'")
    assert _runs_in(db) == 0


def test_unknown_task_suggests_a_name(db):
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finanse", "--db", str(db))
    _assert_one_line_error(proc, "unknown task 'finanse'", "'finance'")
    assert _runs_in(db) == 0


def test_malformed_task_yaml_is_named(db, tmp_path):
    (tmp_path / "broken.yaml").write_text("task: broken_task\noutput_type: [multiple_choice\n")
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "broken_task", "--include-path", str(tmp_path),
                   "--db", str(db))
    _assert_one_line_error(proc, "malformed task YAML", "broken.yaml")
    assert _runs_in(db) == 0


def test_missing_data_file_is_named(db, tmp_path):
    (tmp_path / "nodata.yaml").write_text(
        "task: nodata\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
        f"    test: {tmp_path / 'missing.jsonl'}\ntest_split: test\noutput_type: multiple_choice\n"
        "doc_to_text: '{{q}}'\ndoc_to_target: 0\ndoc_to_choice: ['a', 'b']\n")
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "nodata", "--include-path", str(tmp_path),
                   "--db", str(db))
    _assert_one_line_error(proc, "missing.jsonl")
    assert _runs_in(db) == 0


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_non_positive_limit(db, limit):
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance", "--limit", limit, "--db", str(db))
    _assert_one_line_error(proc, "--limit")
    assert not db.exists()


def test_unwritable_store_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli(*RUN, "--db", str(blocker / "store.duckdb"))
    _assert_one_line_error(proc, "store")


def test_store_that_is_not_duckdb(tmp_path):
    fake = tmp_path / "notes.duckdb"
    fake.write_text("these are my notes\n")
    proc = run_cli(*RUN, "--db", str(fake))
    _assert_one_line_error(proc, "is not a DuckDB database")
    assert fake.read_text() == "these are my notes\n"
    assert run_cli("runs", "--db", str(fake)).returncode == 2


def test_store_locked_past_the_timeout(db):
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); time.sleep(120)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        proc = run_cli(*RUN, "--db", str(db), env={"HARNESS_DB_TIMEOUT": "1"})
        _assert_one_line_error(proc, "stayed locked", "HARNESS_DB_TIMEOUT")
        assert time.monotonic() - started < 60
    finally:
        holder.kill()
        holder.wait()
    assert _runs_in(db) == 0


def test_offline_model_not_in_cache_names_the_twin(db):
    started = time.monotonic()
    proc = run_cli("run", "--model", "pythia-70m", "--task", "finance", "--db", str(db))
    _assert_one_line_error(proc, "pythia-70m", "EleutherAI/pythia-70m", "Hugging Face cache", "tiny-pythia")
    assert time.monotonic() - started < 60  # no long network retries
    assert _runs_in(db) == 0


def test_missing_checkpoint_folder(db, tmp_path):
    proc = run_cli("run", "--model", str(tmp_path / "no-such-checkpoint"), "--task", "finance", "--db", str(db))
    _assert_one_line_error(proc, "does not exist")


def test_unknown_run_id(db):
    proc = run_cli("show", "20990101-nope", "--db", str(db))
    _assert_one_line_error(proc, "20990101-nope")


def test_bad_model_args_and_seed(db):
    _assert_one_line_error(run_cli(*RUN, "--model-args", "colour=blue", "--db", str(db)), "colour")
    _assert_one_line_error(run_cli(*RUN, "--seed", "1,2", "--db", str(db)), "--seed")
    assert _runs_in(db) == 0
