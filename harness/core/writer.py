"""The one owner of run records: it creates (or reopens) them once the model has loaded, streams samples and
requests in batches with a heartbeat, and ends each run finished, failed or interrupted. Runners only produce
outcomes; nothing else writes a run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.records import Outcome, RunRecord, RunResult
from harness.core.environment import git_commit, versions
from harness.store import Store, process_identity, utcnow
from harness.store.recorder import RunRecorder


def new_run_id() -> str:
    return f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class RunIdentity:
    """What every run of one invocation shares: the model, where it ran and how."""

    model: str
    fingerprint: str
    source: str
    revision: str | None
    backend: str
    device: str
    dtype: str
    info: dict[str, Any]


class RunWriter:
    """Run records of one invocation, from creation to their end."""

    def __init__(self, store: Store, identity: RunIdentity, log: Callable[[str], None]) -> None:
        self.store, self.identity, self.log = store, identity, log
        self.invocation_id = uuid.uuid4().hex[:12]
        self.run_ids: dict[str, str] = {}
        self.recorder: RunRecorder | None = None
        self._environment = {"versions": versions(identity.backend), "git_commit": git_commit()}

    def start(self, tasks: list[Any], resumed: dict[str, str], output_types: dict[str, str]) -> RunRecorder:
        """Create a run for each task plan (``resumed`` maps a task to the run it continues) and return the sink
        its rows stream into."""
        rows, started = [], {}
        for task in tasks:
            if task.name in resumed:
                started[task.name] = resumed[task.name]
                self.store.reopen(resumed[task.name], process_identity())
                continue
            started[task.name] = new_run_id()
            rows.append(self._record(task, started[task.name], output_types[task.name]).stored())
        self.store.create_runs(rows)
        self.run_ids |= started
        self.recorder = RunRecorder(self.store, started)
        return self.recorder

    def _record(self, task: Any, run_id: str, output_type: str) -> RunRecord:
        ident = self.identity
        return RunRecord(
            run_id=run_id, invocation_id=self.invocation_id, model=ident.model,
            model_fingerprint=ident.fingerprint, model_source=ident.source, revision=ident.revision,
            dtype=ident.dtype, backend=ident.backend, device=ident.device, task=task.name, task_hash=task.task_hash,
            output_type=output_type, settings=task.settings, settings_hash=task.settings_hash,
            model_info=ident.info, started_at=utcnow(), **self._environment, **process_identity())

    def stopped(self, exc: BaseException) -> None:
        """Keep what finished and mark the open runs interrupted (Ctrl-C, SIGTERM) or failed."""
        if self.recorder is not None:
            self.recorder.close_after(exc)

    def flush(self) -> None:
        """Write what is buffered and stop the heartbeat."""
        if self.recorder is not None:
            self.recorder.close()

    def finish(self, task: str, outcome: Outcome, costs: dict[str, Any]) -> RunResult:
        """Write a run's metrics and statistics and mark it finished. Answers of an interrupted attempt that this
        one resumed count as model answers; with no model call in this attempt nothing was measured, so the
        throughput is NULL (a run answered from the cache would otherwise report the cache's speed)."""
        run_id = self.run_ids[task]
        seconds = max(outcome.seconds, 1e-9)
        measured = outcome.model_calls > 0
        answers = {"n_model_answers": outcome.request_count - outcome.n_cached, "n_cached_answers": outcome.n_cached}
        self.store.finish_run(run_id, outcome.metrics, {
            **costs, "n_samples": outcome.sample_count, "n_requests": outcome.request_count, **answers,
            "duration_s": outcome.seconds, "samples_per_s": outcome.sample_count / seconds if measured else None,
            "requests_per_s": outcome.request_count / seconds if measured else None})
        return RunResult(run_id, self.invocation_id, task, outcome.sample_count, outcome.metrics, **answers)


def finished_result(store: Store, run_id: str) -> RunResult:
    """A finished run as ``harness.run`` returns it."""
    shown = store.get_run(run_id)
    row = shown["run"]
    return RunResult(run_id, row["invocation_id"], row["task"], row["n_samples"], shown["metrics"],
                     n_model_answers=row.get("n_model_answers"), n_cached_answers=row.get("n_cached_answers"))
