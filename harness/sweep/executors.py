"""Where a sweep's jobs run: in this process one after another, or as Ray tasks across a cluster.

An executor takes jobs (``submit``) while it has room and hands back finished attempts (``next_done``); the
sweep decides about retries and is the only writer of the store.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from harness.distributed.cluster import cluster_gpus, connect, unwrap
from harness.errors import HarnessError
from harness.store import Store
from harness.sweep.plan import Job
from harness.sweep.worker import JobOutcome, describe_error, run_job


def job_kwargs(job: Job, options: dict[str, Any]) -> dict[str, Any]:
    """The run arguments of a job: its leaf tasks still to evaluate, finished ones with the same settings reused."""
    return {**options, "model": job.model, "revision": job.revision, "task": list(job.leaves), "skip_finished": True}


class LocalExecutor:
    """Jobs in this process, one at a time, writing to the store directly; a retry resumes the failed runs."""

    name = "local"

    def __init__(self, store: Store, options: dict[str, Any], log: Callable[[str], None]) -> None:
        self.store, self.options, self.log = store, options, log
        self.queue: deque[tuple[Job, int]] = deque()

    def has_room(self) -> bool:
        return not self.queue

    def busy(self) -> bool:
        return bool(self.queue)

    def submit(self, job: Job, attempt: int) -> None:
        self.queue.append((job, attempt))

    def next_done(self) -> tuple[Job, JobOutcome]:
        from harness.core.execute import run_request
        from harness.core.request import RunRequest

        job, attempt = self.queue.popleft()
        start = time.monotonic()
        try:
            kwargs = job_kwargs(job, self.options) | {"resume": attempt > 1 and not job.native}
            results = run_request(RunRequest.build(**kwargs, db=self.store.path, log=self.log), self.store)
        except Exception as exc:  # the sweep retries or records it
            return job, JobOutcome(describe_error(exc), [], time.monotonic() - start)
        return job, JobOutcome(None, [r.run_id for r in results], time.monotonic() - start)

    def close(self) -> None:
        from harness.core.engines import release_engines

        release_engines()


class RayExecutor:
    """Jobs as Ray tasks: one CPU each, plus the GPUs an engine needs when the cluster has GPUs."""

    name = "ray"

    def __init__(self, address: str | None, options: dict[str, Any], workers: int | None) -> None:
        self.ray = connect(address)
        self.options = options
        self.on_gpu = options.get("device", "auto") != "cpu" and cluster_gpus(self.ray) > 0
        if options.get("device", "auto").startswith("cuda") and not self.on_gpu:
            raise HarnessError(f"--device {options['device']}: the Ray cluster has no GPUs; use --device cpu")
        self.workers = workers or max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        self.task = self.ray.remote(run_job)
        self.pending: dict[Any, Job] = {}

    def has_room(self) -> bool:
        return len(self.pending) < self.workers

    def busy(self) -> bool:
        return bool(self.pending)

    def submit(self, job: Job, attempt: int) -> None:
        gpus = job.gpus if self.on_gpu else 0
        ref = self.task.options(num_cpus=1, num_gpus=gpus, max_retries=0, name=f"harness-job-{job.index}") \
            .remote(job_kwargs(job, self.options))
        self.pending[ref] = job

    def next_done(self) -> tuple[Job, JobOutcome]:
        ready, _ = self.ray.wait(list(self.pending), num_returns=1)
        job = self.pending.pop(ready[0])
        try:
            return job, self.ray.get(ready[0])
        except self.ray.exceptions.RayTaskError as exc:  # raised outside run(): the cause is the error
            return job, JobOutcome(describe_error(unwrap(self.ray, exc)), [], 0.0)
        except self.ray.exceptions.RayError as exc:  # the worker died (killed, out of memory, node lost)
            return job, JobOutcome(describe_error(exc), [], 0.0)

    def close(self) -> None:
        """Cancel what is still running (an interrupted sweep)."""
        for ref in self.pending:
            self.ray.cancel(ref, force=True)
        self.pending.clear()
