"""The public Python API, a facade over the harness's layers: thin functions, no decisions. The CLI is a thin
layer over these functions.

>>> import harness
>>> results = harness.run(model="tiny-pythia", task="finance", limit=5)  # doctest: +SKIP
>>> harness.runs()[0]["status"]  # doctest: +SKIP
'finished'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.core.engines import release_engines
from harness.core.options import DEFAULT_SEED, parse_kv, parse_seed
from harness.core.request import RunRequest, log_to_stderr, request_hash
from harness.store import SCHEMA_VERSION, Store


def _store(db: str | Path | None, read_only: bool = False) -> Store:
    from harness.resources import default_db

    return Store(db if db is not None else default_db(), read_only=read_only)


def run(model: str | None, task: str | list[str], *, revision: str | None = None, db: str | Path | None = None,
        log: Any = None, **options: Any) -> list[dict[str, Any]]:
    """Evaluate ``model`` on ``task`` (names, groups or comma lists) and store one run per leaf task.

    ``options`` are the run options of ``harness.core.options.OPTIONS`` (the ``harness run`` flags with
    underscores): ``backend``, ``batch_size``, ``limit``, ``num_fewshot``, ``device``, ``dtype``, ``seed``,
    ``model_args``, ``gen_kwargs``, ``include_path``, ``apply_chat_template`` (default: the registry's, on for
    chat models), ``system_instruction``, ``prompt_strategy``, ``fewshot_as_multiturn``, ``metadata``,
    ``teacher`` and ``teacher_base_url`` (``factuality_imitation_gap``'s teacher answers first, as a run of its
    own), ``base_url`` (openai), ``tensor_parallel_size``, ``pipeline_parallel_size``, ``gpu_memory_utilization``
    and ``max_model_len`` (vllm), ``data_parallel_size``, ``adapter`` and ``quantization`` (part of the model
    fingerprint), ``use_cache``, ``resume`` (True, or a run id), ``skip_finished`` (reuse a finished run with the
    same model, task and settings), ``tag``, ``quiet``; for harness-native tasks ``data``, ``images``,
    ``prompt``, ``clicks``, ``coco_eval``, ``generated``, ``reference``, ``i3d``, ``num_generated``,
    ``num_reference``, ``videomae``, ``beta``. Every run records its load time and peak memory.
    Returns one ``{"run_id", "invocation_id", "task", "status", "n_samples", "n_model_answers",
    "n_cached_answers", "metrics"}`` per run (answers from model calls and from the request cache). Bad input
    raises ``HarnessError`` before anything is written.
    """
    from harness.core.execute import run_request

    request = RunRequest.build(model, task, revision=revision, db=db, log=log, **options)
    return [result.as_dict() for result in run_request(request, _store(db))]


def plan(model: str | None, task: str | list[str], *, revision: str | None = None, db: str | Path | None = None,
         log: Any = None, **options: Any) -> dict[str, Any]:
    """What ``run`` with the same arguments would do, decided without loading weights or writing the store:
    per leaf task the action (new, resume or reuse a run), requests already answered, hashes; see ``Plan``."""
    from harness.core.plan import plan as plan_request

    request = RunRequest.build(model, task, revision=revision, db=db, log=log, **options)
    return plan_request(request, _store(db, read_only=True), fetch=False).as_dict()


def sweep(models: str | list[str], tasks: str | list[str], *, revisions: str | list[str] | None = None,
          executor: str = "local", address: str | None = None, max_retries: int = 2, workers: int | None = None,
          db: str | Path | None = None, log: Any = None, **options: Any) -> dict[str, Any]:
    """Evaluate every (model × revision × task), skipping runs already finished with the same settings.

    ``options`` are ``run()``'s options, the same for every job. ``executor="ray"`` runs jobs as Ray tasks on
    the cluster at ``address`` (or ``$RAY_ADDRESS``; a local cluster otherwise), at most ``workers`` at a time;
    the driver is the only writer of the store. A failed job is retried ``max_retries`` times, then recorded as
    failed. Returns ``{"sweep_id", "jobs": [{"job", "model", "revision", "task", "status", "attempts", "error",
    "run_ids", ...}]}``; status is finished, failed or skipped.
    """
    from harness.sweep.runner import sweep as run_sweep

    return run_sweep(models, tasks, revisions=revisions, executor=executor, address=address, max_retries=max_retries,
                     workers=workers, store=_store(db), log=log or log_to_stderr, options=options)


def plan_sweep(models: str | list[str], tasks: str | list[str], *, revisions: str | list[str] | None = None,
               db: str | Path | None = None, log: Any = None, **options: Any) -> list[dict[str, Any]]:
    """The jobs ``sweep`` would plan, each with its run plan; nothing is loaded or written."""
    from harness.sweep.runner import plan_sweep as plan_jobs

    jobs = plan_jobs(models, tasks, revisions, options, _store(db, read_only=True), log or log_to_stderr)
    return [{"job": j.index, "model": j.model, "revision": j.revision, "task": j.task,
             "action": "run" if j.leaves else "skip", "leaves": list(j.leaves), "plan": j.plan} for j in jobs]


def runs(db: str | Path | None = None, *, model: str | None = None, task: str | None = None,
         status: str | None = None, last: int | None = None) -> list[dict[str, Any]]:
    """Stored runs, newest first: every one, or those whose model and task match (names or globs such as
    ``pythia-*``; a model with or without ``@revision``) with ``status``, at most the ``last`` newest."""
    from harness.report.runs import select_runs

    return select_runs(_store(db).list_runs(), model=model, task=task, status=status, last=last)


def show(run_id: str, db: str | Path | None = None) -> dict[str, Any]:
    """One run and its metrics: ``{"run": {...}, "metrics": [...]}``."""
    return _store(db).get_run(run_id)


def delete(run_ids: list[str], db: str | Path | None = None) -> list[str]:
    """Delete runs (ids or unique prefixes) with their samples; returns the ids deleted."""
    return _store(db).delete(run_ids)


def export(run_id: str, format: str = "jsonl", out: str | Path | None = None,
           db: str | Path | None = None) -> list[dict[str, Any]]:
    """Export a run's samples as jsonl, csv or parquet; returns the rows written."""
    from harness.store.export import export_rows, write_rows

    rows = export_rows(_store(db), run_id)
    write_rows(rows, format, out)
    return rows


def models(pattern: str | None = None, modality: str | None = None) -> list[dict[str, Any]]:
    """Registered models matching a name pattern and modality."""
    from harness.registry import find_models

    return [spec.summary() for spec in find_models(pattern, modality)]


def tasks(pattern: str | None = None, include_path: list[str] | None = None,
          lm_eval_builtins: bool = False) -> list[dict[str, Any]]:
    """Registered tasks, groups and tags (lm-eval's built-ins too when asked), each with its kind, type,
    metrics, item count (None when unknown without downloading) and a one-line description."""
    from harness.text.task_info import list_tasks

    return list_tasks(pattern, include_path, lm_eval_builtins)


def doctor(db: str | Path | None = None) -> list[str]:
    """Problems with this environment, one line each with its fix; empty when healthy."""
    from harness.doctor import check_environment

    return check_environment(_store(db).path)


def tag(run_refs: list[str], name: str, db: str | Path | None = None) -> list[str]:
    """Tag runs (ids, prefixes, invocation ids or tags); a tag keeps one run per model and task, the newest tagged."""
    store = _store(db)
    return store.tag([run_id for ref in run_refs for run_id in store.runs_named(ref)], name)


def untag(name: str, db: str | Path | None = None) -> int:
    """Remove a tag from every run carrying it; returns how many did."""
    removed = _store(db).untag(name)
    if not removed:
        raise HarnessError(f"no run carries the tag {name!r}; 'harness tags' lists them")
    return removed


def tags(db: str | Path | None = None) -> list[dict[str, Any]]:
    """Every tag and the runs it names."""
    return _store(db).tags()


def leaderboards() -> list[dict[str, str]]:
    """The built-in leaderboard definitions."""
    from harness.report.definitions import list_leaderboards

    return list_leaderboards()


def leaderboard(name: str, out: str | Path | None = None, *, tag: str | None = None,
                include_path: list[str] | None = None, db: str | Path | None = None) -> dict[str, Any]:
    """Build a leaderboard's table from the store and, with ``out``, its static HTML site.

    Returns ``{"table": Table, "site": {...} or None}``; ``name`` is a built-in definition or a YAML file.
    """
    from harness.report.definitions import load_leaderboard
    from harness.report.site import build_site
    from harness.report.table import build_table

    store = _store(db)
    table = build_table(load_leaderboard(name, include_paths=include_path), store, tag)
    return {"table": table, "site": build_site(table, store, Path(out)) if out is not None else None}


def compare(ref_a: str, ref_b: str, *, force: bool = False, db: str | Path | None = None) -> list[Any]:
    """Per task and metric, run(s) B against run(s) A with a paired test; refs as in ``gate``."""
    from harness.gate.compare import compare_runs
    from harness.gate.outcomes import load_ref

    store = _store(db)
    return compare_runs(load_ref(ref_a, store), load_ref(ref_b, store), force=force)


def gate(baseline: str, candidate: str, *, leaderboard: str | None = None, max_drop: float = 0.0,
         alpha: float = 0.05, force: bool = False, include_path: list[str] | None = None,
         db: str | Path | None = None) -> list[Any]:
    """The regression gate: one ``Check`` per task and metric; any ``fail`` verdict fails the gate.

    ``baseline`` and ``candidate`` are each a baseline file, a tag, an invocation id or a run id (tried in that
    order). A metric fails when it dropped by more than ``max_drop`` (absolute, in its own units; an increase
    for lower-is-better metrics) and its paired test is significant at ``alpha``.
    """
    from harness.gate.verdict import gate as run_gate

    return run_gate(baseline, candidate, _store(db), leaderboard=leaderboard, include_path=include_path,
                    max_drop=max_drop, alpha=alpha, force=force)


def export_baseline(run_refs: list[str], out: str | Path, db: str | Path | None = None) -> dict[str, Any]:
    """Write finished runs' metrics and per-sample outcomes to a versioned JSON baseline file for ``gate``."""
    from harness.gate.outcomes import from_store, write_baseline
    from harness.version import __version__

    store = _store(db)
    ids = list(dict.fromkeys(run_id for ref in run_refs for run_id in store.runs_named(ref)))
    return write_baseline(from_store(store, ids), Path(out), __version__)


__all__ = ["run", "plan", "sweep", "plan_sweep", "request_hash", "runs", "show", "delete", "export", "models",
           "tasks", "doctor", "release_engines", "parse_seed", "parse_kv", "tag", "untag", "tags", "leaderboards",
           "leaderboard", "compare", "gate", "export_baseline", "SCHEMA_VERSION", "DEFAULT_SEED"]
