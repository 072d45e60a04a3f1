"""Which stored runs ``harness runs`` lists: filtered by model, task and status, the newest N."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from harness.errors import HarnessError, did_you_mean

RUN_STATUSES = ("running", "finished", "failed", "interrupted")


def _matches(pattern: str | None, *names: str) -> bool:
    """No pattern, or one of ``names`` is the pattern or matches it as a glob (``pythia-*``)."""
    return pattern is None or any(fnmatchcase(name, pattern) for name in names)


def select_runs(runs: list[dict[str, Any]], *, model: str | None = None, task: str | None = None,
                status: str | None = None, last: int | None = None) -> list[dict[str, Any]]:
    """The runs (newest first) whose model and task match the names or globs and whose status is ``status``,
    at most the ``last`` newest. A model matches with or without its ``@revision``.

    >>> runs = [{"model": "pythia-70m@step1000", "task": "finance_numeric", "status": "finished"},
    ...         {"model": "tiny-pythia", "task": "finance_headline", "status": "failed"}]
    >>> [r["task"] for r in select_runs(runs, model="pythia-70m")]
    ['finance_numeric']
    >>> [r["model"] for r in select_runs(runs, task="finance_*", last=1)]
    ['pythia-70m@step1000']
    """
    if status is not None and status not in RUN_STATUSES:
        raise HarnessError(f"unknown status {status!r}{did_you_mean(status, list(RUN_STATUSES))}; one of "
                           f"{', '.join(RUN_STATUSES)}")
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
        raise HarnessError(f"last must be a positive whole number, not {last!r}")
    chosen = [run for run in runs if _matches(model, run["model"], run["model"].partition("@")[0])
              and _matches(task, run["task"]) and (status is None or run["status"] == status)]
    return chosen[:last] if last is not None else chosen
