"""Short-lived DuckDB connections that take turns with other processes and threads.

Every command holds its connection only for one short transaction. DuckDB's own
file lock does not cover a connection's whole life: a closing process deletes
its write-ahead log after releasing the lock, which can drop the next writer's
rows; and that lock belongs to the process, so it cannot keep two threads (a run
and its heartbeat) apart, while DuckDB refuses a read-only and a writable
connection to one file at once within a process. So a connection is held under
an advisory lock on the store file (shared for reading, exclusive for writing)
from before it opens until after it has closed, and under a lock of this process.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    import duckdb

DEFAULT_LOCK_TIMEOUT_S = 60.0
_THIS_PROCESS = threading.RLock()  # held for a connection's whole life; re-entrant for nested connections
_held: list[Path] = []  # the stores this process holds a turn on (the outermost connection took it)


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
    """Open ``path``, waiting up to ``timeout`` seconds for other processes and this process's other threads to
    finish with it; always closes."""
    timeout = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    with _THIS_PROCESS:
        if not read_only and not path.exists():
            create_atomically(path)
        with _turn(path, read_only, deadline, timeout):
            conn = _open(path, read_only, deadline, timeout)
            try:
                yield conn
            finally:
                conn.close()


@contextmanager
def _turn(path: Path, read_only: bool, deadline: float, timeout: float) -> Iterator[None]:
    """Hold an advisory lock on the store file (``flock``, separate from DuckDB's own) until the connection has
    closed. A nested connection of the same thread rides on the outer one's turn: opening a second descriptor and
    closing it would drop DuckDB's lock, which belongs to the process."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: DuckDB's own lock is all there is
        yield
        return
    if not path.exists() or (key := path.resolve()) in _held:
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if read_only else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked(path, timeout) from None
                time.sleep(0.02 + random.random() * 0.08)
        _held.append(key)
        try:
            yield
        finally:
            _held.remove(key)
    finally:
        os.close(fd)  # releases the flock; DuckDB's connection is closed by now


def _locked(path: Path, timeout: float) -> HarnessError:
    return HarnessError(f"store {path} stayed locked by another process for {timeout:g}s; wait for it to finish, "
                        "raise HARNESS_DB_TIMEOUT, or use another --db")


def create_atomically(path: Path) -> bool:
    """Put a new store, its schema complete, at ``path`` unless another process already has; returns whether this
    call put it there. DuckDB creates a new file by opening it truncated before it takes the lock, which would wipe
    a store that a concurrent process has just created and begun to write; so the store is built beside it and
    hard-linked into place, which never replaces a file. Where hard links are not supported, DuckDB creates the
    file itself (and the first writer migrates it)."""
    import duckdb

    from harness.store.schema import migrate

    staging = path.with_name(f".{path.name}.{os.getpid()}.{random.randrange(1 << 30):08x}.new")
    try:
        with duckdb.connect(str(staging)) as conn:
            migrate(conn)
        os.link(staging, path)
        return True
    except FileExistsError:
        return False  # another process created it first
    except (OSError, duckdb.Error):
        return False  # no hard links here (or no room): let DuckDB create the file
    finally:
        staging.unlink(missing_ok=True)


def _open(path: Path, read_only: bool, deadline: float, timeout: float) -> "duckdb.DuckDBPyConnection":
    """DuckDB's connection, retrying while its lock is held (by a program that is not the harness) or while another
    process writes a new store's header."""
    import duckdb

    creation = _Creation(path)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            message = str(exc)
            if "lock" in message.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.02 + random.random() * 0.08)
                    continue
                raise _locked(path, timeout) from exc
            if "not a valid DuckDB database" in message:
                if creation.ongoing() and time.monotonic() < deadline:  # another process is writing its header
                    time.sleep(0.02 + random.random() * 0.08)
                    continue
                raise HarnessError(f"{path} is not a DuckDB database; point --db (or HARNESS_DB) at a .duckdb "
                                   "store or a new file") from exc
            raise HarnessError(f"cannot open store {path}: {message.splitlines()[0]}") from exc
