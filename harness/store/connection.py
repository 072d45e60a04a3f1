"""Short-lived DuckDB connections that wait for the file lock.

DuckDB lets one process at a time open a file for writing, so every command
holds its connection only for one short transaction and retries while another
process holds the lock.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    import duckdb

DEFAULT_LOCK_TIMEOUT_S = 60.0


def lock_timeout() -> float:
    """Seconds to wait for a store lock: ``HARNESS_DB_TIMEOUT`` or 60."""
    try:
        return float(os.environ.get("HARNESS_DB_TIMEOUT", DEFAULT_LOCK_TIMEOUT_S))
    except ValueError as exc:
        raise HarnessError(f"HARNESS_DB_TIMEOUT={os.environ['HARNESS_DB_TIMEOUT']!r} is not a number of seconds") from exc


def check_writable(path: Path) -> None:
    """Raise one clear line when ``path`` cannot hold a store (before any work is done)."""
    if path.is_dir():
        raise HarnessError(f"store path {path} is a folder; pass a file such as {path / 'harness.duckdb'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not path.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(f"cannot create the store's folder {parent}: {exc.strerror}; choose another --db") from exc
        if not os.access(parent, os.W_OK):
            raise HarnessError(f"store folder {parent} is not writable; choose another --db or fix its permissions")
    elif not os.access(path, os.W_OK):
        raise HarnessError(f"store {path} is not writable; choose another --db or fix its permissions")


GROWTH_WAIT_S = 2.0  # how long a file that is not (yet) a DuckDB store may stand still before it is refused


class _Creation:
    """Whether another process may still be writing a new store's header: the file is too short yet or holds
    DuckDB's magic, and it grew within the last ``GROWTH_WAIT_S`` seconds."""

    def __init__(self, path: Path) -> None:
        self.path, self.size, self.changed = path, -1, time.monotonic()

    def ongoing(self) -> bool:
        try:
            size = self.path.stat().st_size
            with self.path.open("rb") as handle:
                head = handle.read(12)
        except OSError:
            return True
        if size != self.size:
            self.size, self.changed = size, time.monotonic()
        started = len(head) < 12 or head[8:12] == b"DUCK"
        return started and time.monotonic() - self.changed < GROWTH_WAIT_S


@contextmanager
def connect(path: Path, *, read_only: bool = False, timeout: float | None = None) -> Iterator["duckdb.DuckDBPyConnection"]:
    """Open ``path``, waiting up to ``timeout`` seconds for another process's lock; always closes."""
    import duckdb

    timeout = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    creation = _Creation(path)
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            message = str(exc)
            if "lock" in message.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.02 + random.random() * 0.08)
                    continue
                raise HarnessError(f"store {path} stayed locked by another process for {timeout:g}s; wait for it "
                                   "to finish, raise HARNESS_DB_TIMEOUT, or use another --db") from exc
            if "not a valid DuckDB database" in message:
                if creation.ongoing() and time.monotonic() < deadline:  # another process is writing its header
                    time.sleep(0.02 + random.random() * 0.08)
                    continue
                raise HarnessError(f"{path} is not a DuckDB database; point --db (or HARNESS_DB) at a .duckdb "
                                   "store or a new file") from exc
            raise HarnessError(f"cannot open store {path}: {message.splitlines()[0]}") from exc
    try:
        yield conn
    finally:
        conn.close()
