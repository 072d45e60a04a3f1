"""Running a planned sweep: jobs to an executor, retries, and one writer for the store."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError
from harness.store import Store, utcnow
from harness.store.transfer import bundle_runs, record_job, sweep_jobs
from harness.sweep.plan import Job, check_options, parse_revisions, plan_jobs, split_list
from harness.sweep.worker import JobOutcome


def check_executor(executor: str, address: str | None, workers: int | None, max_retries: int) -> None:
    """Refuse executor settings that contradict each other, with one line."""
    if executor not in ("local", "ray"):
        raise HarnessError(f"--executor {executor!r}: use local or ray")
    if executor == "local" and address is not None:
        raise HarnessError("--address joins a Ray cluster; add --executor ray")
    if executor == "local" and workers not in (None, 1):
        raise HarnessError("the local executor runs one job at a time; --workers needs --executor ray")
    if workers is not None and workers < 1:
        raise HarnessError(f"--workers {workers} must be at least 1")
    if max_retries < 0:
        raise HarnessError(f"--max-retries {max_retries} must be 0 or more")


def plan_sweep(models: str | list[str], tasks: str | list[str], revisions: str | list[str] | None,
               options: dict[str, Any], store: Store, log: Callable[[str], None]) -> list[Job]:
    """Every job of a sweep, planned by the run layer (nothing loaded; the store only read)."""
    check_options(options)
    model_names, task_names = split_list(models, "--models"), split_list(tasks, "--tasks")
    return plan_jobs(model_names, task_names, parse_revisions(revisions), options, store, log)


def sweep(models: str | list[str], tasks: str | list[str], *, revisions: str | list[str] | None, executor: str,
          address: str | None, max_retries: int, workers: int | None, store: Store, log: Callable[[str], None],
          options: dict[str, Any]) -> dict[str, Any]:
    """Plan the jobs and run those not already finished, here or on Ray (see ``harness.api.sweep``)."""
    from harness.sweep.executors import LocalExecutor, RayExecutor

    check_executor(executor, address, workers, max_retries)
    check_options(options)
    store.ensure_ready()
    jobs = plan_sweep(models, tasks, revisions, options, store, log)
    make = (lambda: RayExecutor(address, options, workers)) if executor == "ray" else (
        lambda: LocalExecutor(store, options, log))
    return run_sweep(jobs, executor, make, store, max_retries=max_retries, log=log)


def run_sweep(jobs: list[Job], executor_name: str, make_executor: Callable[[], Any], store: Store, *,
              max_retries: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Run every job that is not skipped; returns ``{"sweep_id", "jobs": [job rows]}``.

    Each job's rows reach the store in one transaction as soon as it ends, so an interrupted sweep loses only
    the jobs in flight. A failed attempt is retried up to ``max_retries`` times, then recorded as failed with its
    error; the other jobs go on. The executor is made only when there is a job to run.
    """
    sweep_id = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    total, done = len(jobs), 0
    todo = deque(job for job in jobs if job.leaves)
    log(f"sweep {sweep_id}: {total} job(s), {total - len(todo)} already finished, {len(todo)} to run "
        f"({executor_name} executor)")
    for job in jobs:
        if not job.leaves:
            done += 1
            _record(store, sweep_id, job, executor_name, "skipped", 0, JobOutcome(None, [], 0.0))
    if not todo:
        return {"sweep_id": sweep_id, "jobs": sweep_jobs(store, sweep_id)}
    executor = make_executor()
    attempts: Counter[int] = Counter()
    try:
        while todo or executor.busy():
            while todo and executor.has_room():
                job = todo.popleft()
                attempts[job.index] += 1
                executor.submit(job, attempts[job.index])
            job, outcome = executor.next_done()
            tries = attempts[job.index]
            if outcome.error is None:
                done += 1
                _record(store, sweep_id, job, executor_name, "finished", tries, outcome)
                log(f"sweep [{done}/{total}] finished {job.label} in {outcome.seconds:.1f} s")
            elif tries <= max_retries:
                log(f"sweep: {job.label} failed (attempt {tries} of {max_retries + 1}): {outcome.error}; retrying")
                todo.append(job)
            else:
                done += 1
                _record(store, sweep_id, job, executor_name, "failed", tries, outcome)
                log(f"sweep [{done}/{total}] failed {job.label} after {tries} attempt(s): {outcome.error}")
    finally:
        executor.close()
    return {"sweep_id": sweep_id, "jobs": sweep_jobs(store, sweep_id)}


def _record(store: Store, sweep_id: str, job: Job, executor: str, status: str, attempts: int,
            outcome: JobOutcome) -> None:
    run_ids = bundle_runs(outcome.bundle) if outcome.bundle else outcome.run_ids
    record_job(store, {"sweep_id": sweep_id, "job": job.index, "model": job.model, "revision": job.revision,
                       "task": job.task, "status": status, "attempts": attempts, "error": outcome.error,
                       "run_ids": [*job.finished, *run_ids], "executor": executor, "seconds": outcome.seconds},
               outcome.bundle)
