"""Runs of harness-native tasks (vision, video): one stored run per task, samples written as batches finish.

The task's type (``harness.registry.typed_tasks.TASK_TYPES``) prepares its data, evaluates a model and
shapes sample rows; this module owns everything the store sees, as ``harness.api.run`` does for text tasks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.registry.typed_tasks import TypedTask, task_type
from harness.store import Store, process_identity, utcnow


def run_typed(tasks: list[TypedTask], *, model: str | None, revision: str | None, device: str, dtype: str,
              batch_size: int, limit: int | float | None, data: str | None, options: dict[str, Any],
              request_hash: str | None,
              tag: str | None, store: Store, common: dict[str, Any], log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Evaluate ``model`` on each task (``options``: the task type's own flags); returns ``run()``'s result shape.

    ``request_hash`` (``harness.api.request_hash``) is recorded in each run's settings for ``harness sweep``.
    """
    from harness.devices import peak_memory_mb, pick_device, pick_dtype
    from harness.models.resolve import resolve_model
    from harness.store.recorder import RunRecorder

    kinds = {task_type(t.type) for t in tasks}
    needs_model = any(getattr(kind, "needs_model", lambda o: True)(options) for kind in kinds)
    if model is None and needs_model:
        raise HarnessError("--model is required (only 'fvd' with --generated DIR scores videos without one)")
    resolved = resolve_model(model, revision) if model is not None else None
    options = options | {"model": model}
    if resolved is not None and resolved.spec and resolved.spec.tiny:
        options = options | {"tiny": True}
    for kind in kinds:
        if resolved is not None and resolved.spec and resolved.spec.modality != kind.modality:
            raise HarnessError(f"model {model!r} is a {resolved.spec.modality} model; {kind.name} tasks need a "
                               f"{kind.modality} model (e.g. 'harness models --modality {kind.modality}')")
    if data is not None and len(tasks) > 1:
        raise HarnessError("--data replaces one task's images; name a single task with it")
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device, resolved.spec.dtype if resolved is not None and resolved.spec else "float32")
    prepared = {t.name: task_type(t.type).prepare(t, data, limit, options) for t in tasks}  # bad data fails here
    model_path = resolved.path if resolved is not None else None
    for t in tasks:
        task_type(t.type).validate(model_path, prepared[t.name])
        for warning in prepared[t.name].get("warnings", []):
            log(f"warning: {t.name}: {warning}")
    if resolved is None:  # videos a user already has: named after their folder, fingerprinted by their content
        folder = Path(options["generated"]).resolve()
        identity = {"name": f"generated:{folder.name}", "fingerprint": "videos:" + task_type(tasks[0].type)
                    .content_hash(tasks[0], prepared[tasks[0].name])[:16], "source": "videos", "revision": None,
                    "info": {"name": f"generated:{folder.name}", "family": "videos", "folder": str(folder)}}
    else:
        identity = {"name": model, "fingerprint": resolved.fingerprint, "source": resolved.source,
                    "revision": resolved.revision,
                    "info": resolved.spec.summary() if resolved.spec else {"name": model}}
    invocation_id = uuid.uuid4().hex[:12]
    results = []
    for task in tasks:
        kind = task_type(task.type)
        settings = {"limit": limit, "data": data, "batch_size": batch_size, "device": device,
                    "dtype": str(torch_dtype).removeprefix("torch."), "backend": "transformers", "task_type": kind.name,
                    "request_hash": request_hash, **prepared[task.name]["settings"]}
        run_id = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
        store.create_runs([common | {
            "run_id": run_id, "invocation_id": invocation_id, "model": identity["name"],
            "model_fingerprint": identity["fingerprint"], "model_source": identity["source"],
            "revision": identity["revision"],
            "dtype": settings["dtype"], "backend": "transformers", "device": device, "task": task.name,
            "task_hash": kind.content_hash(task, prepared[task.name]), "output_type": kind.name,
            "settings": json.dumps(settings), "settings_hash": _settings_hash(settings),
            "model_info": json.dumps(identity["info"]),
            "status": "running", "started_at": utcnow(), **process_identity()}])
        log(f"run {run_id}: {identity['name']} on {task.name}")
        recorder = RunRecorder(store, {task.name: run_id})
        try:
            outcome = kind.evaluate(model_path, task, prepared[task.name], device=device, dtype=torch_dtype,
                                    batch_size=batch_size, on_batch=lambda rows, name=task.name: recorder.on_batch(
                                        {}, {name: [_stored(kind.sample_row(r)) for r in rows]}))
            recorder.close()
        except BaseException as exc:
            recorder.close_after(exc)
            raise
        n = len(outcome.samples)
        final_settings = {**settings, **prepared[task.name]["settings"]}  # with what the run learnt (timings)
        store.finish_run(run_id, outcome.metrics, {"settings": json.dumps(final_settings, default=str),
            "peak_memory_mb": peak_memory_mb(device),
            "n_samples": n, "n_requests": n, "duration_s": outcome.seconds,
            "samples_per_s": n / max(outcome.seconds, 1e-9), "requests_per_s": n / max(outcome.seconds, 1e-9)})
        results.append({"run_id": run_id, "invocation_id": invocation_id, "task": task.name, "status": "finished",
                        "n_samples": n, "metrics": outcome.metrics})
    if tag is not None:
        store.tag([r["run_id"] for r in results], tag)
    return results


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-encode the columns the store keeps as JSON text."""
    return row | {key: json.dumps(row[key]) for key in ("target", "prediction", "metrics", "doc")
                  if row[key] is not None}


def _settings_hash(settings: dict[str, Any]) -> str:
    from harness.api import settings_hash

    return settings_hash(settings)
