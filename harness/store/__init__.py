"""The DuckDB store: runs, metrics, samples and raw request results.

Every method opens the file for one short transaction, so several processes can
share a store. JSON-valued columns hold JSON text.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UnknownNameError, did_you_mean
from harness.store.connection import check_writable, connect, create_atomically
from harness.store.schema import SCHEMA_VERSION, current_version, migrate, refuse_foreign
from harness.store.views import LATEST_PER_ROW_AND_TASK

__all__ = ["Store", "StoreWriteError", "SCHEMA_VERSION", "utcnow", "iso"]

STALE_AFTER = timedelta(minutes=10)
HOSTNAME = socket.gethostname()
SAMPLE_COLUMNS = ["run_id", "task", "doc_id", "output_type", "input", "choices", "target", "prediction",
                  "loglikelihoods", "raw_output", "loglikelihood", "token_count", "metrics", "doc"]
# Before a run takes a tag: untag the runs of the same model and task (a tag names one run of each).
UNTAG_SAME_MODEL_AND_TASK = ("DELETE FROM tags WHERE tag = ? AND run_id IN (SELECT other.run_id FROM runs other "
                             "JOIN runs this ON other.model = this.model AND other.task = this.task "
                             "WHERE this.run_id = ?)")
REQUEST_COLUMNS = ["run_id", "doc_id", "idx", "repeat", "request_type", "arguments", "response", "cache_key"]


class StoreWriteError(HarnessError):
    """The store could not be written (a full disk, a file size limit, an I/O error): the run failed (exit 1)."""

    exit_code = 1

    def __init__(self, path: Path, cause: BaseException) -> None:
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        super().__init__(f"could not write to the store {path}: {reason}; free space (or use another --db), then "
                         "'harness run ... --resume' continues where it stopped")

    @classmethod
    def marking(cls, error: StoreWriteError, status: str) -> HarnessError:
        """The write that should have marked a run ``status`` failed too."""
        return HarnessError(f"{error} (the run could not be marked {status} either: it shows as interrupted "
                            "until then)")


def _write_failure(exc: BaseException) -> bool:
    """Whether an error while writing means the file could not grow or be written (not a bug or a conflict)."""
    import duckdb

    if isinstance(exc, (OSError, duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException)):
        return True
    return isinstance(exc, duckdb.Error) and any(
        text in str(exc) for text in ("Could not write", "No space left", "File too large", "Disk quota"))


def utcnow() -> datetime:
    """The current UTC time, naive (the store's TIMESTAMP columns hold UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC text for a stored timestamp."""
    return None if value is None else value.isoformat() + "Z"


def _process_gone(pid: int | None, host: str | None, started: datetime) -> bool:
    """True when the run's process is known to be dead (same host, pid gone or reused)."""
    if pid is None or host != HOSTNAME:
        return False
    import psutil

    try:
        created = datetime.fromtimestamp(psutil.Process(pid).create_time(), timezone.utc).replace(tzinfo=None)
    except psutil.NoSuchProcess:
        return True
    return created > started + timedelta(seconds=5)


class Store:
    """A DuckDB file holding evaluation results."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only  # never create, migrate or write the file (planning, --dry-run)

    # -- connections ------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A migrated, writable connection for one short transaction."""
        if self.read_only:
            raise RuntimeError(f"the store {self.path} was opened read-only")
        check_writable(self.path)
        try:
            with connect(self.path) as conn:
                if not current_version(conn):
                    refuse_foreign(conn, self.path)
                migrate(conn)
                yield conn
        except Exception as exc:
            if _write_failure(exc):
                raise StoreWriteError(self.path, exc) from exc
            raise

    @contextmanager
    def reading(self) -> Iterator[Any | None]:
        """A read-only connection, or None when the store does not exist yet."""
        if not self.path.exists():
            yield None
            return
        with connect(self.path, read_only=True) as conn:
            version = current_version(conn)
            if not version:
                refuse_foreign(conn, self.path)
            if version == SCHEMA_VERSION:
                yield conn
                return
        if self.read_only and version == 0:  # an empty database: nothing stored yet
            yield None
            return
        if self.read_only:
            raise HarnessError(f"the store {self.path} has schema version {version} and this harness reads "
                               f"{SCHEMA_VERSION}; run a command without --dry-run once to migrate it")
        with self.writing() as conn:  # an empty or older store: migrate first
            yield conn

    def ensure_ready(self) -> None:
        """Fail early with one line if the store cannot be opened for writing; a store this call creates is
        ready as it is made."""
        if not self.read_only and not self.path.exists():
            check_writable(self.path)
            if create_atomically(self.path):
                return
        with self.writing():
            pass

    # -- writing ----------------------------------------------------------------------------------
    def create_runs(self, runs: list[dict[str, Any]]) -> None:
        """Insert run rows (status ``running``) in one transaction."""
        with self.writing() as conn:
            conn.execute("BEGIN TRANSACTION")
            for run in runs:
                cols = list(run)
                conn.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [run[c] for c in cols])
            conn.execute("COMMIT")

    def append(self, requests: list[dict], samples: list[dict], run_ids: list[str]) -> None:
        """Store finished requests and samples, and refresh the runs' heartbeat, in one transaction."""
        import pandas as pd

        with self.writing() as conn:
            conn.execute("BEGIN TRANSACTION")
            if requests:
                conn.register("request_frame", pd.DataFrame(requests, columns=REQUEST_COLUMNS))
                conn.execute("INSERT INTO requests BY NAME SELECT * FROM request_frame")
            if samples:
                conn.register("sample_frame", pd.DataFrame(samples, columns=SAMPLE_COLUMNS))
                conn.execute("INSERT INTO samples BY NAME SELECT * FROM sample_frame")
            if run_ids:
                conn.execute("UPDATE runs SET heartbeat_at = ? WHERE run_id IN (SELECT unnest(?))",
                             [utcnow(), run_ids])
            conn.execute("COMMIT")

    def finish_run(self, run_id: str, metrics: list[dict], stats: dict[str, Any]) -> None:
        """Write a run's metrics and mark it finished."""
        with self.writing() as conn:
            conn.execute("BEGIN TRANSACTION")
            conn.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            for m in metrics:
                conn.execute("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [run_id, m["task"], m["metric"], m["filter"], m["value"], m["stderr"], m["n"],
                              m.get("higher_is_better")])
            sets = ", ".join(f"{k} = ?" for k in stats)
            conn.execute(f"UPDATE runs SET status = 'finished', finished_at = ?, heartbeat_at = ?, {sets} "
                         "WHERE run_id = ?", [utcnow(), utcnow(), *stats.values(), run_id])
            conn.execute("COMMIT")

    def end_runs(self, run_ids: list[str], status: str, error: str | None = None) -> None:
        """Mark unfinished runs ``failed`` or ``interrupted``, keeping what they stored."""
        if not run_ids:
            return
        with self.writing() as conn:
            conn.execute("UPDATE runs SET status = ?, error = ?, finished_at = ? "
                         "WHERE run_id IN (SELECT unnest(?)) AND status = 'running'",
                         [status, error, utcnow(), run_ids])

    def delete(self, run_ids: list[str]) -> list[str]:
        """Delete runs and everything stored with them; returns the full ids deleted."""
        with self.writing() as conn:
            full = [self._match(conn, rid) for rid in run_ids]
            conn.execute("BEGIN TRANSACTION")
            for table in ("requests", "samples", "metrics", "tags", "runs"):
                conn.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT unnest(?))", [full])
            conn.execute("COMMIT")
        return full

    def tag(self, run_ids: list[str], name: str) -> list[str]:
        """Tag runs. A tag names at most one run per model and task: tagging a newer run moves it."""
        if not name.strip() or name != name.strip():
            raise HarnessError(f"tag {name!r}: give a non-empty name without surrounding spaces")
        with self.writing() as conn:
            full = [self._match(conn, rid) for rid in run_ids]
            conn.execute("BEGIN TRANSACTION")
            for run_id in full:
                conn.execute(UNTAG_SAME_MODEL_AND_TASK, [name, run_id])
                conn.execute("INSERT INTO tags VALUES (?, ?, ?)", [name, run_id, utcnow()])
            conn.execute("COMMIT")
        return full

    def untag(self, name: str) -> int:
        """Remove a tag from every run; returns how many runs carried it."""
        with self.writing() as conn:
            count = conn.execute("SELECT count(*) FROM tags WHERE tag = ?", [name]).fetchone()[0]
            conn.execute("DELETE FROM tags WHERE tag = ?", [name])
        return count

    # -- reading ----------------------------------------------------------------------------------
    @staticmethod
    def _match(conn, run_id: str) -> str:
        rows = [r[0] for r in conn.execute("SELECT run_id FROM runs WHERE starts_with(run_id, ?)",
                                           [run_id]).fetchall()]
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise HarnessError(f"run id {run_id!r} is ambiguous ({len(rows)} runs start with it); give more of it")
        known = [r[0] for r in conn.execute("SELECT run_id FROM runs").fetchall()]
        raise UnknownNameError(f"no run {run_id!r} in this store{did_you_mean(run_id, known)}; "
                               "'harness runs' lists them")

    @staticmethod
    def _run_dicts(cursor) -> list[dict[str, Any]]:
        names = [d[0] for d in cursor.description]
        runs = []
        for row in cursor.fetchall():
            run = dict(zip(names, row))
            if run["status"] == "running":
                stale = run["heartbeat_at"] and utcnow() - run["heartbeat_at"] > STALE_AFTER
                if stale or _process_gone(run["pid"], run["hostname"], run["started_at"]):
                    run["status"] = "interrupted"
            for key in ("settings", "versions", "model_info"):
                run[key] = json.loads(run[key]) if run[key] else None
            for key in ("started_at", "finished_at", "heartbeat_at"):
                run[key] = iso(run[key])
            runs.append(run)
        return runs

    def list_runs(self) -> list[dict[str, Any]]:
        """All runs, newest first, with killed runs shown as ``interrupted``."""
        with self.reading() as conn:
            if conn is None:
                return []
            return self._run_dicts(conn.execute("SELECT * FROM runs ORDER BY started_at DESC, run_id"))

    def resolve(self, run_id: str) -> str:
        """The full id of the run whose id is or starts with ``run_id``."""
        with self.reading() as conn:
            if conn is None:
                raise UnknownNameError(f"no run {run_id!r}: the store {self.path} does not exist yet")
            return self._match(conn, run_id)

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run and its metrics: ``{"run": {...}, "metrics": [...]}``."""
        full = self.resolve(run_id)
        with self.reading() as conn:
            run = self._run_dicts(conn.execute("SELECT * FROM runs WHERE run_id = ?", [full]))[0]
            cursor = conn.execute("SELECT task, metric, filter, value, stderr, n, higher_is_better FROM metrics "
                                  "WHERE run_id = ? ORDER BY task, metric, filter", [full])
            names = [d[0] for d in cursor.description]
            metrics = [dict(zip(names, row)) for row in cursor.fetchall()]
        return {"run": run, "metrics": metrics}

    def sample_rows(self, run_id: str) -> list[dict[str, Any]]:
        """A run's samples, by doc id, with JSON columns decoded."""
        full = self.resolve(run_id)
        with self.reading() as conn:
            cursor = conn.execute(f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM samples WHERE run_id = ? "
                                  "ORDER BY doc_id", [full])
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        for row in rows:
            for key in ("choices", "target", "prediction", "loglikelihoods", "metrics", "doc"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
        return rows

    def cached_responses(self, keys: list[str]) -> dict[str, Any]:
        """Responses stored under any of ``keys`` by earlier runs (of any status)."""
        if not keys:
            return {}
        with self.reading() as conn:
            if conn is None:
                return {}
            rows = conn.execute("SELECT cache_key, any_value(response) FROM requests "
                                "WHERE cache_key IN (SELECT unnest(?)) GROUP BY cache_key", [keys]).fetchall()
        return {key: json.loads(response) for key, response in rows}

    def run_responses(self, run_id: str) -> dict[tuple[int, int, int], Any]:
        """A run's stored request results by (doc_id, idx, repeat)."""
        with self.reading() as conn:
            rows = conn.execute("SELECT doc_id, idx, repeat, response FROM requests WHERE run_id = ?",
                                [run_id]).fetchall()
        return {(doc, idx, rep): json.loads(response) for doc, idx, rep, response in rows}

    def resumable(self, fingerprint: str, task_hash: str, settings_hash: str) -> str | None:
        """The latest unfinished run (failed, interrupted or killed) with this model, task and settings."""
        with self.reading() as conn:
            if conn is None:
                return None
            cursor = conn.execute("SELECT * FROM runs WHERE model_fingerprint = ? AND task_hash = ? AND "
                                  "settings_hash = ? AND status != 'finished' ORDER BY started_at DESC",
                                  [fingerprint, task_hash, settings_hash])
            runs = self._run_dicts(cursor)
        return next((r["run_id"] for r in runs if r["status"] in ("failed", "interrupted")), None)

    def finished_match(self, fingerprint: str, task_hash: str, settings_hash: str) -> str | None:
        """The latest finished run with this model, task and settings."""
        with self.reading() as conn:
            if conn is None:
                return None
            row = conn.execute("SELECT run_id FROM runs WHERE model_fingerprint = ? AND task_hash = ? AND "
                               "settings_hash = ? AND status = 'finished' ORDER BY started_at DESC LIMIT 1",
                               [fingerprint, task_hash, settings_hash]).fetchone()
        return row[0] if row else None

    def finished_requests(self) -> dict[tuple[str, str, str], str]:
        """Finished runs by (model fingerprint without its chat suffix, task hash, request hash) -> run id.

        The request hash (``settings.request_hash``) identifies what was asked for, before the backend resolved
        ``auto`` settings; ``harness sweep`` uses it to skip work without loading models.
        """
        with self.reading() as conn:
            if conn is None:
                return {}
            rows = conn.execute("SELECT split_part(model_fingerprint, '+chat:', 1), task_hash, "
                                "json_extract_string(settings, '$.request_hash'), run_id FROM runs "
                                "WHERE status = 'finished' ORDER BY started_at").fetchall()
        return {(fp, task, request): run_id for fp, task, request, run_id in rows if request}

    def reopen(self, run_id: str, identity: dict[str, Any]) -> None:
        """Mark a run running again for --resume; its samples are re-scored from its stored requests."""
        with self.writing() as conn:
            conn.execute("BEGIN TRANSACTION")
            conn.execute("DELETE FROM samples WHERE run_id = ?", [run_id])
            conn.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            conn.execute("UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, heartbeat_at = ?, "
                         "pid = ?, hostname = ? WHERE run_id = ?",
                         [utcnow(), identity["pid"], identity["hostname"], run_id])
            conn.execute("COMMIT")

    def tags(self) -> list[dict[str, Any]]:
        """Every tag with the runs it names, newest tag first."""
        with self.reading() as conn:
            if conn is None:
                return []
            rows = conn.execute("SELECT tag, list(run_id ORDER BY run_id), max(created_at) FROM tags GROUP BY tag "
                                "ORDER BY max(created_at) DESC, tag").fetchall()
        return [{"tag": tag, "runs": runs, "tagged_at": iso(at)} for tag, runs, at in rows]

    def runs_named(self, ref: str) -> list[str]:
        """The run ids a reference names: a tag, an invocation id, or a run id (or unique prefix)."""
        with self.reading() as conn:
            if conn is None:
                raise UnknownNameError(f"no run or tag {ref!r}: the store {self.path} does not exist yet")
            tagged = [r[0] for r in conn.execute("SELECT run_id FROM tags WHERE tag = ? ORDER BY run_id",
                                                 [ref]).fetchall()]
            if tagged:
                return tagged
            invoked = [r[0] for r in conn.execute("SELECT run_id FROM runs WHERE invocation_id = ? ORDER BY task",
                                                  [ref]).fetchall()]
            if invoked:
                return invoked
            try:
                return [self._match(conn, ref)]
            except UnknownNameError:
                known = [r[0] for r in conn.execute("SELECT DISTINCT tag FROM tags").fetchall()]
                raise UnknownNameError(f"{ref!r} is no file, tag, invocation or run in this store"
                                       f"{did_you_mean(ref, known)}; 'harness runs' and 'harness tags' list them")

    def latest_runs(self, tasks: list[str], tag: str | None = None) -> list[dict[str, Any]]:
        """The runs a leaderboard counts: per model name, revision, variant, prompt strategy and task of ``tasks``,
        the latest finished run (the ``latest_runs`` view), or the latest carrying ``tag`` if given; newest
        first, with the view's columns, metrics and tags."""
        with self.reading() as conn:
            if conn is None:
                return []
            if tag is None:
                query, params = "SELECT * FROM latest_runs WHERE task IN (SELECT unnest(?))", [tasks]
            else:
                query = ("SELECT * FROM finished_runs WHERE task IN (SELECT unnest(?)) AND run_id IN "
                         f"(SELECT run_id FROM tags WHERE tag = ?) {LATEST_PER_ROW_AND_TASK}")
                params = [tasks, tag]
            runs = self._run_dicts(conn.execute(f"SELECT * FROM ({query}) ORDER BY started_at DESC, run_id", params))
            ids = [run["run_id"] for run in runs]
            metrics: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in ids}
            cursor = conn.execute("SELECT run_id, task, metric, filter, value, stderr, n, higher_is_better "
                                  "FROM metrics WHERE run_id IN (SELECT unnest(?))", [ids])
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                metrics[row[0]].append(dict(zip(names[1:], row[1:])))
            tags: dict[str, list[str]] = {run_id: [] for run_id in ids}
            for run_id, name in conn.execute("SELECT run_id, tag FROM tags WHERE run_id IN (SELECT unnest(?)) "
                                             "ORDER BY tag", [ids]).fetchall():
                tags[run_id].append(name)
        for run in runs:
            run["metrics"], run["tags"] = metrics[run["run_id"]], tags[run["run_id"]]
        return runs

    def samples_of(self, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Samples of several runs in one query, by run and doc id, with JSON columns left as text."""
        found: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
        with self.reading() as conn:
            if conn is None:
                return found
            cursor = conn.execute(f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM samples "
                                  "WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, doc_id", [run_ids])
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                found[row[0]].append(dict(zip(names, row)))
        return found

    def count(self, table: str, run_id: str) -> int:
        """Rows of ``table`` stored for a run."""
        with self.reading() as conn:
            if conn is None:
                return 0
            return conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]).fetchone()[0]


def process_identity() -> dict[str, Any]:
    """The pid and host recorded on a run, to detect runs killed without warning."""
    return {"pid": os.getpid(), "hostname": HOSTNAME}
