"""One sweep job, run where a Ray worker (or the driver itself) picked it up."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.store.transfer import Bundle


@dataclass
class JobOutcome:
    """What a job attempt returns to the driver: its error (None when it finished) and the runs it made."""

    error: str | None
    run_ids: list[str]
    seconds: float
    bundle: Bundle | None = None  # the runs' rows, when they were written to a store of the job's own


def describe_error(exc: BaseException) -> str:
    """One line for the sweep's table: a HarnessError's own message, else the exception's type and first line."""
    from harness.errors import HarnessError

    from harness.redact import redact

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(first if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {first}".rstrip(": "))


def run_job(run_kwargs: dict[str, Any]) -> JobOutcome:
    """Evaluate into a store of the job's own and return its rows: a sweep has one writer, the driver.

    Whatever the job stored survives a failure (failed runs keep their samples); the driver decides whether to
    retry or to record it.
    """
    from harness.core.engines import release_engines
    from harness.core.execute import run_request
    from harness.core.request import RunRequest
    from harness.store import Store
    from harness.store.transfer import all_run_ids, dump_runs

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="harness-job-") as folder:
        store = Store(Path(folder) / "job.duckdb")
        error = None
        try:
            run_request(RunRequest.build(**run_kwargs, db=store.path), store)
        except Exception as exc:  # reported to the driver, which retries or records it
            error = describe_error(exc)
        finally:
            release_engines()  # an idle worker must not keep holding a GPU
        run_ids = all_run_ids(store)
        bundle = dump_runs(store, run_ids) if run_ids else None
    return JobOutcome(error, run_ids, time.monotonic() - start, bundle)
