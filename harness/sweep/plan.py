"""Planning a sweep: one job per (model, revision, task) and which of its leaf tasks are already done."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.store import Store


@dataclass(frozen=True)
class Job:
    """One ``harness run`` of a sweep."""

    index: int
    model: str
    revision: str | None
    task: str  # as the user named it (a group or a leaf task)
    leaves: tuple[str, ...]  # leaf tasks still to evaluate; empty when the job is skipped
    finished: tuple[str, ...]  # runs that already answer the other leaves
    gpus: int  # GPUs the job asks the cluster for when it runs on GPUs
    native: bool = False  # harness-native tasks (memorization, vision): no --resume on retry
    plan: dict[str, Any] | None = None  # the run layer's plan of the job, as shown by --dry-run

    @property
    def label(self) -> str:
        return f"{self.model}{'@' + self.revision if self.revision else ''} {self.task}"


def split_list(text: str | list[str] | None, flag: str) -> list[str]:
    """``"a,b"`` or ``["a", "b,c"]`` -> names in order, each once; empty refused."""
    items = [text] if isinstance(text, str) else list(text or [])
    names = list(dict.fromkeys(n.strip() for item in items for n in item.split(",") if n.strip()))
    if not names:
        raise HarnessError(f"{flag}: give at least one name (comma-separated)")
    return names


# Pythia's published checkpoints: step0, log-spaced steps 1, 2, 4, ... 512, then every 1,000 steps to 143,000.
PYTHIA_SCHEDULE = ["step0", *(f"step{2 ** i}" for i in range(10)), *(f"step{k}" for k in range(1000, 143001, 1000))]
_RANGE = re.compile(r"^([A-Za-z_-]*)(\d+):([A-Za-z_-]*)(\d+):(\d+)$")


def parse_revisions(text: str | list[str] | None) -> list[str | None]:
    """``--revisions``: names (``step1000,main``), ranges (``step1000:step143000:1000``, both ends included)
    and ``pythia-schedule``, comma-separated; without it, each model's default revision."""
    if text is None:
        return [None]
    revisions: list[str | None] = []
    for item in split_list(text, "--revisions"):
        if item == "pythia-schedule":
            revisions += PYTHIA_SCHEDULE
        elif ":" in item:
            match = _RANGE.match(item)
            if not match or match.group(1) != match.group(3) or int(match.group(5)) < 1 \
                    or int(match.group(2)) > int(match.group(4)):
                raise HarnessError(f"--revisions {item!r}: a range is PREFIXSTART:PREFIXEND:STEP with START <= END, "
                                   "e.g. step1000:step143000:1000")
            prefix, first, last, step = match.group(1), int(match.group(2)), int(match.group(4)), int(match.group(5))
            revisions += [f"{prefix}{n}" for n in range(first, last + 1, step)]
        else:
            revisions.append(item)
    return list(dict.fromkeys(revisions))


def _gpus(spec: Any, options: dict[str, Any]) -> int:
    """GPUs one job holds: an engine's (tensor × pipeline parallel, else the registry's minimum); none when
    data-parallel engines, Ray actors of their own, hold them."""
    if (options.get("data_parallel_size") or 1) > 1:
        return 0
    tensor, pipeline = options.get("tensor_parallel_size"), options.get("pipeline_parallel_size")
    if tensor is None and pipeline is None:
        return spec.min_gpus if spec is not None else 1
    return (tensor or 1) * (pipeline or 1)


def _offered(model: str, revisions: list[str | None], log: Any) -> list[str | None]:
    """The requested revisions a model with local revisions (tiny-pythia) has; others are kept as asked."""
    from harness.models.tiny_training import revisions as local_revisions
    from harness.registry import all_models

    spec = all_models().get(model)
    offered = local_revisions(spec) if spec is not None else []
    if not offered or revisions == [None]:
        return revisions
    kept = [r for r in revisions if r in offered]
    if not kept:
        raise HarnessError(f"{model} has none of the revisions asked for; it offers {', '.join(offered)}")
    if len(kept) < len(revisions):
        log(f"sweep: {model} offers {', '.join(offered)}; {len(revisions) - len(kept)} other revision(s) left out")
    return kept


def check_options(options: dict[str, Any]) -> None:
    """A sweep takes the run options a sweep may set; malformed values fail before any job is planned."""
    from harness.core.options import BY_NAME
    from harness.core.request import RunRequest

    unknown = sorted(name for name in options if name not in BY_NAME or not BY_NAME[name].sweep)
    if unknown:
        raise TypeError(f"sweep() got unknown run option(s): {', '.join(unknown)}")
    RunRequest.build(None, "_", **options)


def job_request(model: str, revision: str | None, task: str | list[str], options: dict[str, Any], store: Store,
                log: Any) -> Any:
    """The run request of one job: finished runs with the same settings are reused, not repeated."""
    from harness.core.request import RunRequest

    return RunRequest.build(model, task, revision=revision, db=store.path, log=log, skip_finished=True, **options)


def plan_job(index: int, model: str, revision: str | None, task: str, options: dict[str, Any], store: Store,
             log: Any) -> Job:
    """Plan one job with the run layer's planner (nothing loaded, nothing downloaded): its leaf tasks that a
    finished run answers are left out. A job that cannot be planned here runs every leaf and meets its error,
    if any, when it runs; unknown model or task names fail the sweep at once."""
    from harness.errors import UnknownNameError
    from harness.core.plan import plan

    label = f"{model}{'@' + revision if revision else ''} {task}"
    gpus = _gpus(_spec(model), options)
    try:
        planned = plan(job_request(model, revision, task, options, store, log), store, fetch=False,
                       reuse_finished=True)
    except UnknownNameError:
        raise
    except HarnessError as exc:
        log(f"sweep: cannot plan {label} here ({exc}); it runs without a check for finished runs")
        return Job(index, model, revision, task, (task,), (), gpus)
    return Job(index, model, revision, task,
               leaves=tuple(t.name for t in planned.tasks if t.action != "reuse"),
               finished=tuple(t.run_id for t in planned.tasks if t.action == "reuse"),
               gpus=gpus, native=planned.kind == "native", plan=planned.as_dict())


def _spec(model: str) -> Any:
    from harness.models.resolve import split_revision
    from harness.registry import all_models

    return all_models().get(split_revision(model, None)[0])


def plan_jobs(models: list[str], tasks: list[str], revisions: list[str | None], options: dict[str, Any],
              store: Store, log: Any) -> list[Job]:
    """Every (model × revision × task) job, with the leaf tasks a finished run already answers left out, decided
    by the same planner ``harness run`` uses, so sweep and run cannot disagree."""
    jobs: list[Job] = []
    for model in models:
        for revision in _offered(model, revisions, log):
            for task in tasks:
                jobs.append(plan_job(len(jobs), model, revision, task, options, store, log))
    return jobs
