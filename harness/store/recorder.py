"""Hands results to the store while a run is going: batched, at most about once a second."""

from __future__ import annotations

import threading
import time

from harness.errors import HarnessError
from harness.redact import redact
from harness.store import Store, StoreWriteError


class RunRecorder:
    """A result sink that writes request and sample rows of several runs (one per task)."""

    def __init__(self, store: Store, run_ids: dict[str, str], flush_every_s: float = 1.0,
                 heartbeat_every_s: float = 60.0) -> None:
        self.store = store
        self.run_ids = run_ids
        self.flush_every_s = flush_every_s
        self._requests: list[dict] = []
        self._samples: list[dict] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._failed: HarnessError | None = None  # a write the heartbeat could not make
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, args=(heartbeat_every_s,), daemon=True)
        self._heartbeat.start()

    def on_batch(self, task_requests: dict[str, list[dict]], task_samples: dict[str, list[dict]]) -> None:
        """Buffer a batch's rows and flush when the last write is more than ``flush_every_s`` old."""
        with self._lock:
            for task, rows in task_requests.items():
                self._requests.extend(row | {"run_id": self.run_ids[task]} for row in rows)
            for task, rows in task_samples.items():
                self._samples.extend(row | {"run_id": self.run_ids[task], "task": task} for row in rows)
        if self._failed is not None:
            raise self._failed
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction; what a failed write held stays for the next one."""
        with self._lock:
            self.store.append(self._requests, self._samples, list(self.run_ids.values()))
            self._requests, self._samples = [], []
            self._last_flush = time.monotonic()

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                self.flush()
            except HarnessError as exc:  # the store cannot be written: the run's own next write reports it
                self._failed = exc
                return

    def close(self) -> None:
        """Flush what is left and stop the heartbeat."""
        self._stop.set()
        self.flush()

    def close_after(self, exc: BaseException) -> None:
        """Keep what was finished and mark the runs ``interrupted`` (Ctrl-C, SIGTERM) or ``failed`` with the
        reason. When the store cannot take even that (a full disk), say so: the runs then show as interrupted
        until ``--resume`` continues them."""
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        reason = str(exc) if isinstance(exc, StoreWriteError) else f"{type(exc).__name__}: {exc}"
        try:
            self.close()
        except StoreWriteError as write_error:
            reason = str(write_error)
        try:
            self.store.end_runs(list(self.run_ids.values()), status, redact(reason)[:500])
        except StoreWriteError as again:
            raise StoreWriteError.marking(again, status) from exc
