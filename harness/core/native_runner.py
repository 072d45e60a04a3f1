"""Carrying out a plan of harness-native tasks: for each task, the task type loads its model, then the run is
created and the type evaluates, its rows streamed by the writer."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from typing import Any

from harness.models.checkpoint import loading
from harness.records import RunResult
from harness.registry.native_tasks import task_type
from harness.core.plans import Plan, TaskPlan
from harness.core.writer import RunIdentity, RunWriter, finished_result
from harness.store import Store


def run_native(plan: Plan, store: Store) -> list[RunResult]:
    """Evaluate each pending task in turn; reused runs are returned as they are."""
    work = plan.work
    ident = work.identity
    writer = RunWriter(store, RunIdentity(ident.name, ident.fingerprint, ident.source, ident.revision,
                                          "transformers", work.device, plan.engine["dtype"], ident.info),
                       plan.request.log)
    results = []
    for task in plan.tasks:
        if task.action == "reuse":
            plan.request.log(f"run {task.run_id}: {ident.name} on {task.name} already finished with these "
                             "settings; reused")
            results.append(finished_result(store, task.run_id))
        else:
            results.append(_run_one(plan, task, writer))
    return results


def _run_one(plan: Plan, task_plan: TaskPlan, writer: RunWriter) -> RunResult:
    from harness.devices import peak_memory_mb

    work, name = plan.work, task_plan.name
    task, prepared, kind = work.tasks[name], work.prepared[name], task_type(work.tasks[name].type)
    started = time.perf_counter()
    with loading(work.model_path, "model") if work.model_path else nullcontext():
        loaded = kind.load(work.model_path, prepared, device=work.device, dtype=work.torch_dtype)
    load_s = time.perf_counter() - started
    sink = writer.start([task_plan], {}, {name: kind.name})
    plan.request.log(f"run {writer.run_ids[name]}: {work.identity.name} on {name}")
    try:
        outcome = kind.evaluate(loaded, task, prepared, device=work.device, dtype=work.torch_dtype,
                                batch_size=task_plan.settings["batch_size"], on_batch=lambda rows: sink.on_batch(
                                    {}, {name: [kind.sample_row(row).stored() for row in rows]}))
        writer.flush()
    except BaseException as exc:
        writer.stopped(exc)
        raise
    final: dict[str, Any] = {**task_plan.settings, **prepared["settings"]}  # with what the run learnt (timings)
    return writer.finish(name, outcome, {"settings": json.dumps(final, default=str), "load_s": load_s,
                                         "peak_memory_mb": peak_memory_mb(work.device)})
