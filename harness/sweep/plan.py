"""Planning a sweep: one job per (model, revision, task) and which of its leaf tasks are already done."""

from __future__ import annotations

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


def parse_revisions(text: str | list[str] | None) -> list[str | None]:
    """``--revisions R1,R2``; without it, each model's default revision."""
    return [None] if text is None else list(split_list(text, "--revisions"))


def _leaf_hashes(task: str, options: dict[str, Any]) -> dict[str, str]:
    """The leaf tasks a name means and their task hashes, loaded as ``run()`` loads them."""
    from harness.api import parse_kv, parse_seed
    from harness.registry.typed_tasks import expand
    from harness.text.tasks import load_tasks, task_folders, task_hash

    if expand([task], task_folders(options.get("include_path"))) is not None:
        raise HarnessError(f"harness sweep runs text tasks; {task!r} is a vision or video task: "
                           "run it with harness run")
    loaded = load_tasks([task], include_paths=options.get("include_path"), num_fewshot=options.get("num_fewshot"),
                        gen_kwargs=parse_kv(options.get("gen_kwargs"), "--gen-kwargs"),
                        fewshot_seed=parse_seed(options.get("seed"))[3], metadata=options.get("metadata"))
    return {name: task_hash(task_obj) for name, task_obj in loaded.items()}


def _fingerprint(model: str, revision: str | None, options: dict[str, Any]) -> tuple[str | None, Any]:
    """What ``run()`` will record as the model fingerprint, known before any weights load."""
    from harness.models.resolve import planned_fingerprint, split_revision
    from harness.registry import all_models

    if options.get("backend") == "openai":
        base = split_revision(model, revision)[0]
        return f"openai:{(options.get('base_url') or '').rstrip('/')}#{model}", all_models().get(base)
    return planned_fingerprint(model, revision)


def _gpus(spec: Any, options: dict[str, Any]) -> int:
    """GPUs one job holds: an engine's (tensor × pipeline parallel, else the registry's minimum); none when
    data-parallel engines, Ray actors of their own, hold them."""
    if (options.get("data_parallel_size") or 1) > 1:
        return 0
    tensor, pipeline = options.get("tensor_parallel_size"), options.get("pipeline_parallel_size")
    if tensor is None and pipeline is None:
        return spec.min_gpus if spec is not None else 1
    return (tensor or 1) * (pipeline or 1)


def plan_jobs(models: list[str], tasks: list[str], revisions: list[str | None], options: dict[str, Any],
              store: Store, log: Any) -> list[Job]:
    """Every (model × revision × task) job, with the leaf tasks a finished run already answers left out.

    A leaf is done when the store holds a finished run with the same model fingerprint, task hash and request
    hash (``harness.api.request_hash`` of ``options``), so nothing is loaded to decide it.
    """
    from harness.api import request_hash

    done = store.finished_requests()
    leaves = {task: _leaf_hashes(task, options) for task in tasks}  # bad task names fail before any job runs
    jobs = []
    for model in models:
        for revision in revisions:
            fingerprint, spec = _fingerprint(model, revision, options)
            if fingerprint is None:
                log(f"sweep: cannot tell which weights {model}{'@' + revision if revision else ''} names from "
                    "here (not cached, hub unreachable); its jobs run without a check for finished runs")
            request = request_hash(options, bool(spec and spec.chat_template))
            for task in tasks:
                found = {leaf: done.get((fingerprint, digest, request)) for leaf, digest in leaves[task].items()}
                jobs.append(Job(index=len(jobs), model=model, revision=revision, task=task,
                                leaves=tuple(leaf for leaf, run_id in found.items() if run_id is None),
                                finished=tuple(run_id for run_id in found.values() if run_id is not None),
                                gpus=_gpus(spec, options)))
    return jobs
