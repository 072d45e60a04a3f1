"""Planning a run request: harness-native task types or lm-eval tasks (see ``harness.core.plans``)."""

from __future__ import annotations

from harness.registry.native_tasks import expand
from harness.core.plan_native import plan_native
from harness.core.plan_text import plan_text
from harness.core.plans import Plan
from harness.core.request import RunRequest
from harness.store import Store
from harness.text.tasks import task_folders


def plan(request: RunRequest, store: Store, *, fetch: bool = True, reuse_finished: bool | None = None) -> Plan:
    """Plan ``request`` against ``store`` (only read). ``fetch`` downloads a hub model's weights (a dry run
    reads its config files only); ``reuse_finished`` (default: ``request.skip_finished``) reuses finished runs
    with the same model, task and settings, as ``harness sweep`` and the imitation teacher do."""
    reuse = request.skip_finished if reuse_finished is None else reuse_finished
    native = expand(request.tasks, task_folders(request.include_path))
    if native is not None:
        return plan_native(request, native, store, fetch=fetch, reuse_finished=reuse)
    return plan_text(request, store, fetch=fetch, reuse_finished=reuse)
