"""Carrying out a plan: the teacher's run first when the plan has one still to run, then the plan's own runner
(lm-eval tasks or harness-native task types), then tags."""

from __future__ import annotations

from harness.records import RunResult
from harness.core.plan import plan
from harness.core.plans import Plan
from harness.core.request import RunRequest
from harness.store import Store


def run_request(request: RunRequest, store: Store) -> list[RunResult]:
    """Plan a request and carry it out; bad input fails while planning, before the store is created, and a
    locked or foreign store right after, before anything loads."""
    planned = plan(request, store)
    store.ensure_ready()
    if request.limit is not None:
        request.log(limit_warning(request.limit))
    return execute(planned, store)


def limit_warning(limit: int | float) -> str:
    """The one-line warning a run with --limit prints: its scores cover part of each task."""
    part = f"its first {limit:g} samples" if limit >= 1 else f"{limit:.0%} of its samples"
    return (f"warning: --limit {limit:g} scores each task on {part} only: these scores are not comparable with full "
            "runs (leaderboards mark them 'limited' and rank them after complete rows); leave --limit out for real "
            "metrics")


def execute(planned: Plan, store: Store) -> list[RunResult]:
    """Run what the plan decided; returns one result per leaf task (reused runs included)."""
    if planned.teacher is not None:
        execute(planned.teacher, store)
        if planned.teacher.needs_model:  # the teacher's run is finished now: plan with its answers
            planned = plan(planned.request, store)
    if planned.kind == "text":
        from harness.core.text_runner import run_text

        results = run_text(planned, store)
    else:
        from harness.core.native_runner import run_native

        results = run_native(planned, store)
    if planned.request.tag is not None:
        store.tag([result.run_id for result in results], planned.request.tag)
    return results
