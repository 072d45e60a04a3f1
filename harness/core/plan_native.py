"""Planning a run of harness-native tasks: the model resolved, each task's data prepared and checked, its
settings and content hash computed as the run will record them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.models.resolve import ResolvedModel
from harness.registry.native_tasks import NativeTask, task_type
from harness.core.identity import settings_hash
from harness.core.options import AUTO_CPU_BATCH
from harness.core.plans import Plan, TaskPlan
from harness.core.request import RunRequest
from harness.store import Store


@dataclass(frozen=True)
class Identity:
    """Who a native run evaluates: a model, or (FVD of a user's videos) a folder of generated videos."""

    name: str
    fingerprint: str
    source: str
    revision: str | None
    info: dict[str, Any]


@dataclass
class NativeWork:
    """What the native runner needs: the tasks, their prepared data, the model and where it runs."""

    tasks: dict[str, NativeTask]
    prepared: dict[str, dict[str, Any]]
    model_path: str | None
    identity: Identity
    device: str
    torch_dtype: Any


def plan_native(request: RunRequest, tasks: list[NativeTask], store: Store, *, fetch: bool,
                reuse_finished: bool) -> Plan:
    """Plan ``request`` over harness-native tasks (see ``harness.core.plan.plan``)."""
    from harness.devices import pick_device, pick_dtype
    from harness.models.resolve import resolve_model

    request.check_for_native([t.name for t in tasks])
    kinds = {task_type(t.type) for t in tasks}
    if request.model is None and any(_needs_model(kind, request) for kind in kinds):
        raise HarnessError("--model is required (only 'fvd' with --generated DIR scores videos without one)")
    resolved = resolve_model(request.model, request.revision, weights=fetch) if request.model is not None else None
    _check_fit(request, resolved, kinds, tasks)
    device = pick_device(request.device)
    spec_dtype = resolved.spec.dtype if resolved is not None and resolved.spec else "float32"
    torch_dtype = pick_dtype(request.dtype, device, spec_dtype)
    prepared = _prepare(request, tasks, resolved)
    identity = _identity(request, resolved, tasks[0], prepared[tasks[0].name])
    dtype = str(torch_dtype).removeprefix("torch.")
    plans = []
    for task in tasks:
        kind = task_type(task.type)
        batch_size = AUTO_CPU_BATCH if request.batch_size == "auto" else request.batch_size
        settings = {"limit": request.limit, "data": request.data, "batch_size": batch_size, "device": device,
                    "dtype": dtype, "backend": "transformers", "task_type": kind.name,
                    "request_hash": request.request_hash(chat_default=False), **prepared[task.name]["settings"]}
        plan = TaskPlan(task.name, kind.content_hash(task, prepared[task.name]), settings, settings_hash(settings))
        done = store.finished_match(identity.fingerprint, plan.task_hash, plan.settings_hash) if reuse_finished \
            else None
        if done:
            plan.action, plan.run_id = "reuse", done
        plans.append(plan)
    work = NativeWork({t.name: t for t in tasks}, prepared, resolved.path if resolved is not None else None,
                      identity, device, torch_dtype)
    engine = {"device": device, "dtype": dtype, "max_length": None, "data_parallel_size": 1}
    return Plan(request, "native", identity.name, identity.fingerprint, "transformers", "harness-native task",
                engine, plans, None, work)


def _needs_model(kind: Any, request: RunRequest) -> bool:
    """Whether a task type needs a model for these options (``needs_model`` is optional; default yes)."""
    needs = getattr(kind, "needs_model", None)
    return needs(request.native_options()) if needs is not None else True


def _check_fit(request: RunRequest, resolved: ResolvedModel | None, kinds: set[Any], tasks: list[NativeTask]) -> None:
    """The model's modality must be the task type's; --data names one task's data."""
    for kind in kinds:
        if resolved is not None and resolved.spec and resolved.spec.modality != kind.modality:
            raise HarnessError(f"model {request.model!r} is a {resolved.spec.modality} model; {kind.name} tasks need "
                               f"a {kind.modality} model (e.g. 'harness models --modality {kind.modality}')")
    if request.data is not None and len(tasks) > 1:
        raise HarnessError("--data replaces one task's images; name a single task with it")


def _prepare(request: RunRequest, tasks: list[NativeTask], resolved: ResolvedModel | None) -> dict[str, dict]:
    """Each task's data, prepared and checked against the model (bad data fails here, before any run exists)."""
    options = request.native_options() | {"model": request.model}
    if resolved is not None and resolved.spec and resolved.spec.tiny:
        options |= {"tiny": True}
    prepared = {t.name: task_type(t.type).prepare(t, request.data, request.limit, options) for t in tasks}
    for task in tasks:
        task_type(task.type).validate(resolved.path if resolved is not None else None, prepared[task.name])
        for warning in prepared[task.name].get("warnings", []):
            request.log(f"warning: {task.name}: {warning}")
    return prepared


def _identity(request: RunRequest, resolved: ResolvedModel | None, first: NativeTask,
              prepared: dict[str, Any]) -> Identity:
    if resolved is None:  # videos a user already has: named after their folder, fingerprinted by their content
        folder = Path(request.generated).resolve()
        name = f"generated:{folder.name}"
        digest = task_type(first.type).content_hash(first, prepared)[:16]
        return Identity(name, f"videos:{digest}", "videos", None,
                        {"name": name, "family": "videos", "folder": str(folder)})
    return Identity(request.model, resolved.fingerprint, resolved.source, resolved.revision,
                    resolved.spec.summary() if resolved.spec else {"name": request.model})
