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
    typed: bool = False  # harness-native tasks (memorization, vision): no --resume on retry

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


def _leaf_hashes(task: str, options: dict[str, Any], tiny: bool) -> tuple[dict[str, str], bool]:
    """The leaf tasks a name means and their task hashes, computed as ``run()`` computes them; and whether they
    are harness-native tasks (their data prepared here, with each task's built-in data)."""
    from harness.api import _check_limit, parse_kv, parse_seed, typed_options
    from harness.registry.typed_tasks import expand, task_type
    from harness.text.tasks import load_tasks, task_folders, task_hash

    typed = expand([task], task_folders(options.get("include_path")))
    if typed is not None:
        kinds = typed_options(options) | ({"tiny": True} if tiny else {})
        limit, data = _check_limit(options.get("limit")), options.get("data")
        return {t.name: task_type(t.type).content_hash(t, task_type(t.type).prepare(t, data, limit, kinds))
                for t in typed}, True
    loaded = load_tasks([task], include_paths=options.get("include_path"), num_fewshot=options.get("num_fewshot"),
                        gen_kwargs=parse_kv(options.get("gen_kwargs"), "--gen-kwargs"),
                        fewshot_seed=parse_seed(options.get("seed"))[3], metadata=options.get("metadata"))
    return {name: task_hash(task_obj) for name, task_obj in loaded.items()}, False


def _fingerprint(model: str, revision: str | None, options: dict[str, Any]) -> tuple[str | None, Any]:
    """What ``run()`` will record as the model fingerprint, known before any weights load."""
    from harness.models.resolve import planned_fingerprint, split_revision, variant_fingerprint
    from harness.registry import all_models

    if options.get("backend") == "openai":
        base = split_revision(model, revision)[0]
        return f"openai:{(options.get('base_url') or '').rstrip('/')}#{model}", all_models().get(base)
    fingerprint, spec = planned_fingerprint(model, revision)
    if fingerprint is not None and (options.get("adapter") or options.get("quantization")):
        fingerprint = variant_fingerprint(fingerprint, options.get("adapter"), options.get("quantization"))
    return fingerprint, spec


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


def plan_jobs(models: list[str], tasks: list[str], revisions: list[str | None], options: dict[str, Any],
              store: Store, log: Any) -> list[Job]:
    """Every (model × revision × task) job, with the leaf tasks a finished run already answers left out.

    A leaf is done when the store holds a finished run with the same model fingerprint, task hash and request
    hash (``harness.api.request_hash`` of ``options``), so nothing is loaded to decide it.
    """
    from harness.api import request_hash

    done = store.finished_requests()
    leaves: dict[tuple[str, bool], tuple[dict[str, str], bool]] = {}
    jobs = []
    for model in models:
        for revision in _offered(model, revisions, log):
            fingerprint, spec = _fingerprint(model, revision, options)
            if fingerprint is None:
                log(f"sweep: cannot tell which weights {model}{'@' + revision if revision else ''} names from "
                    "here (not cached, hub unreachable); its jobs run without a check for finished runs")
            for task in tasks:
                key = (task, bool(spec and spec.tiny))
                if key not in leaves:  # bad task names fail here, before any job runs
                    leaves[key] = _leaf_hashes(task, options, tiny=key[1])
                hashes, typed = leaves[key]
                request = request_hash(options, bool(spec and spec.chat_template) and not typed)  # as run() does
                found = {leaf: done.get((fingerprint, digest, request)) for leaf, digest in hashes.items()}
                jobs.append(Job(index=len(jobs), model=model, revision=revision, task=task,
                                leaves=tuple(leaf for leaf, run_id in found.items() if run_id is None),
                                finished=tuple(run_id for run_id in found.values() if run_id is not None),
                                gpus=_gpus(spec, options), typed=typed))
    return jobs
