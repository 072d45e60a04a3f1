"""Hands results to the store while a run is going: batched, at most about once a second."""

from __future__ import annotations

import threading
import time

from harness.store import Store


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
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction."""
        with self._lock:
            requests, samples = self._requests, self._samples
            self._requests, self._samples = [], []
            self.store.append(requests, samples, list(self.run_ids.values()))
            self._last_flush = time.monotonic()

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.flush()

    def close(self) -> None:
        """Flush what is left and stop the heartbeat."""
        self._stop.set()
        self.flush()

    def close_after(self, exc: BaseException) -> None:
        """Keep what was finished and mark the runs ``interrupted`` (Ctrl-C, SIGTERM) or ``failed``."""
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            self.close()
        finally:
            self.store.end_runs(list(self.run_ids.values()), status, f"{type(exc).__name__}: {exc}"[:500])
