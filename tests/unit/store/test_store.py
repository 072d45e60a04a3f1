"""The DuckDB store on its own: schema versions, interrupted-run detection, API access."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import duckdb
import pytest

import harness
from harness.errors import HarnessError
from harness.store import SCHEMA_VERSION, Store, utcnow
from harness.store.schema import current_version
from tests.helpers import run_cli


def _run_row(run_id: str, **extra) -> dict:
    return {"run_id": run_id, "invocation_id": "inv", "model": "m", "model_fingerprint": "fp", "task": "t",
            "task_hash": "h", "status": "running", "started_at": utcnow() - timedelta(hours=1)} | extra


def test_new_store_is_migrated_to_the_current_schema(db):
    Store(db).ensure_ready()
    with duckdb.connect(str(db), read_only=True) as conn:
        assert current_version(conn) == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"meta", "runs", "metrics", "samples", "requests"} <= tables


def test_a_store_from_a_newer_harness_is_refused(db):
    Store(db).ensure_ready()
    with duckdb.connect(str(db)) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    with pytest.raises(HarnessError, match="upgrade harness"):
        Store(db).ensure_ready()


def test_runs_of_dead_processes_and_stale_heartbeats_show_as_interrupted(db):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = Store(db)
    store.create_runs([
        _run_row("dead-pid", pid=dead.pid, hostname=__import__("socket").gethostname(), heartbeat_at=utcnow()),
        _run_row("stale", pid=1, hostname="elsewhere", heartbeat_at=utcnow() - timedelta(hours=1)),
        _run_row("alive", pid=1, hostname="elsewhere", heartbeat_at=utcnow()),
    ])
    status = {r["run_id"]: r["status"] for r in store.list_runs()}
    assert status == {"dead-pid": "interrupted", "stale": "interrupted", "alive": "running"}


def test_end_runs_keeps_finished_ones(db):
    store = Store(db)
    store.create_runs([_run_row("a"), _run_row("b")])
    store.finish_run("a", [], {"n_samples": 0})
    store.end_runs(["a", "b"], "failed", "boom")
    status = {r["run_id"]: (r["status"], r["error"]) for r in store.list_runs()}
    assert status == {"a": ("finished", None), "b": ("failed", "boom")}


def test_ambiguous_prefix_is_refused(db):
    Store(db).create_runs([_run_row("abc-1"), _run_row("abc-2")])
    with pytest.raises(HarnessError, match="ambiguous"):
        Store(db).resolve("abc")


def test_python_api_and_harness_db_variable(tmp_path, monkeypatch):
    target = tmp_path / "env.duckdb"
    monkeypatch.setenv("HARNESS_DB", str(target))
    results = harness.run(model="tiny-llama-2-chat", task="finance_headline", limit=3, quiet=True,
                          apply_chat_template=True, system_instruction="Answer Yes or No.", log=lambda _: None)
    assert target.exists() and results[0]["n_samples"] == 3
    run = harness.show(results[0]["run_id"])["run"]
    assert run["settings"]["apply_chat_template"] is True
    assert "[INST]" in run["settings"]["chat_template"]
    sample = harness.api._store(None).sample_rows(results[0]["run_id"])[0]
    assert sample["input"].startswith("<s>[INST] <<SYS>>\nAnswer Yes or No.")  # the chat-formatted prompt
    assert [r["run_id"] for r in harness.runs()] == [results[0]["run_id"]]


def test_chat_template_refused_for_a_base_model(db):
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_headline", "--limit", "2",
                   "--apply-chat-template", "--db", str(db))
    assert proc.returncode == 2 and "has no chat template" in proc.stderr


def test_doctor_reports_a_bad_store(tmp_path):
    fake = tmp_path / "x.duckdb"
    fake.write_text("nope")
    proc = run_cli("doctor", "--db", str(fake))
    assert proc.returncode == 1
    assert any(line.startswith("store:") and "not a DuckDB database" in line for line in proc.stdout.splitlines())
    healthy = run_cli("doctor", "--db", str(tmp_path / "new.duckdb"))
    assert healthy.returncode == 0, healthy.stdout
    assert not (tmp_path / "new.duckdb").exists()


def test_a_store_whose_header_is_being_written_is_waited_for(tmp_path):
    """Several processes creating one store: a reader that meets a half-written header retries."""
    import time

    from harness.errors import HarnessError
    from harness.store.connection import connect

    half = tmp_path / "half.duckdb"
    half.write_bytes(b"\0" * 5)
    started = time.monotonic()
    with pytest.raises(HarnessError, match="not a DuckDB database"):
        with connect(half, timeout=0.4):
            pass
    assert time.monotonic() - started >= 0.4  # waited before giving up
    text = tmp_path / "notes.duckdb"
    text.write_text("these are my notes, not a database")
    started = time.monotonic()
    with pytest.raises(HarnessError, match="not a DuckDB database"):
        with connect(text, timeout=5):
            pass
    assert time.monotonic() - started < 2  # a foreign file fails at once


def test_threads_of_one_process_take_turns_with_the_store(db):
    """A run's heartbeat writes while the run reads: DuckDB refuses a read-only and a writable connection to one
    file at once within a process, so connections from two threads must not overlap."""
    import threading

    from harness.store.connection import connect

    Store(db).ensure_ready()
    errors: list[BaseException] = []

    def work(read_only: bool) -> None:
        for i in range(40):
            try:
                with connect(db, read_only=read_only) as conn:
                    if read_only:
                        conn.execute("SELECT count(*) FROM runs").fetchall()
                    else:
                        conn.execute("INSERT INTO tags VALUES (?, ?, now())", [f"t{i}", "r"])
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(read_only,)) for read_only in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    with connect(db, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 40


def test_rows_of_a_failed_flush_are_kept_for_the_next_one(db, monkeypatch):
    """The heartbeat's write can fail (the store stayed locked); its rows are written by the next flush."""
    from harness.store.recorder import RunRecorder

    Store(db).ensure_ready()
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(3)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(db)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    monkeypatch.setenv("HARNESS_DB_TIMEOUT", "0.3")
    recorder = RunRecorder(Store(db), {"t": "run-1"}, flush_every_s=3600)
    recorder.on_batch({}, {"t": [{"doc_id": i, "output_type": "loglikelihood"} for i in range(5)]})
    with pytest.raises(HarnessError, match="stayed locked"):
        recorder.flush()
    holder.wait(timeout=30)
    recorder.close()
    assert Store(db).count("samples", "run-1") == 5


TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.flock(fd, (fcntl.LOCK_SH if sys.argv[2] == "shared" else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("held")
"""


def _other_process_finds(db, mode: str) -> str:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(db), mode], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_connection_holds_its_turn_on_the_store_file_until_it_has_closed(db):
    """DuckDB releases its own lock before it deletes its write-ahead log; the store's turn covers the whole
    connection, exclusive for writing and shared for reading."""
    from harness.store.connection import connect

    Store(db).ensure_ready()
    with connect(db):
        assert _other_process_finds(db, "shared") == "held"
    with connect(db, read_only=True):
        assert _other_process_finds(db, "shared") == "free"
        assert _other_process_finds(db, "exclusive") == "held"
    assert _other_process_finds(db, "exclusive") == "free"


def test_creating_a_store_never_replaces_one_another_process_created(db):
    from harness.store.connection import create_atomically

    Store(db).ensure_ready()
    Store(db).create_runs([_run_row("kept")])
    create_atomically(db)  # as a process that saw no file a moment ago
    assert Store(db).get_run("kept")["run"]["run_id"] == "kept"
    assert [p.name for p in db.parent.iterdir() if p.name.startswith(".")] == []  # no staging file left
