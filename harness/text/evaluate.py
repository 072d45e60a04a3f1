"""Evaluate lm-eval tasks with a harness backend, streaming results as batches finish.

lm-eval builds the requests (prompts, few-shot sampling), filters responses,
scores each document (``process_results``) and aggregates; the harness only
executes the requests. Unlike lm-eval, a document is scored and handed to the
sink as soon as all of its requests are answered, so nothing waits for the end.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.backends.base import Backend


class ResultSink(Protocol):
    """Receives results as they are produced (the store in practice)."""

    def on_batch(self, task_requests: dict[str, list[dict]], task_samples: dict[str, list[dict]]) -> None:
        """Request rows and scored sample rows, keyed by task name."""
        ...


@dataclass
class TaskOutcome:
    """Aggregated result of one task."""

    task: str
    metrics: list[dict[str, Any]]
    n_samples: int
    n_requests: int
    seconds: float


@dataclass
class _TaskState:
    task: Any
    pending: dict[int, int] = field(default_factory=dict)  # doc_id -> responses still missing
    instances: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    raw_metrics: dict[tuple[str, str], list] = field(default_factory=lambda: defaultdict(list))
    token_counts: dict[tuple[int, int], int] = field(default_factory=dict)
    docs_left: int = 0
    n_samples: int = 0
    n_requests: int = 0


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


def _first_response(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def sample_row(task: Any, doc_id: int, doc: dict, instances: list, metrics: dict[str, Any],
               token_counts: dict[tuple[int, int], int]) -> dict[str, Any]:
    """One stored sample: input, target, prediction and per-sample metrics, shaped by output type."""
    output_type = task.OUTPUT_TYPE
    first_filter = next(iter(instances[0].filtered_resps))
    filtered = [inst.filtered_resps[first_filter] for inst in instances]
    row: dict[str, Any] = {"doc_id": doc_id, "output_type": output_type, "input": instances[0].args[0],
                           "choices": None, "prediction": None, "loglikelihoods": None, "raw_output": None,
                           "loglikelihood": None, "token_count": None, "metrics": _json(metrics),
                           "doc": _json(doc)}
    target = task.doc_to_target(doc)
    if output_type == "multiple_choice":
        choices = task.doc_to_choice(doc)
        lls = [float(r[0]) for r in filtered]
        if isinstance(target, str) and target in choices:
            target = choices.index(target)
        row.update(choices=_json(list(choices)), loglikelihoods=_json(lls),
                   prediction=_json(max(range(len(lls)), key=lls.__getitem__)))
    elif output_type == "generate_until":
        if isinstance(target, int) and task.config.doc_to_choice is not None:
            target = task.doc_to_choice(doc)[target]
        row.update(raw_output=instances[0].resps[0], prediction=_json(_first_response(filtered[0])))
    elif output_type == "loglikelihood_rolling":
        row.update(loglikelihood=float(filtered[0]),
                   token_count=token_counts.get((doc_id, instances[0].idx)))
    else:  # plain loglikelihood (e.g. lambada): prediction is whether greedy decoding matches
        row.update(loglikelihoods=_json([float(r[0]) for r in filtered]),
                   prediction=_json([bool(r[1]) for r in filtered]))
    row["target"] = _json(target)
    return row


def _score_doc(state: _TaskState, doc_id: int) -> dict[str, Any]:
    task = state.task
    instances = sorted(state.instances.pop(doc_id), key=lambda inst: inst.idx)
    for ensemble in task._filters:
        ensemble.apply(instances)
    doc = instances[0].doc
    per_sample: dict[str, Any] = {}
    single_filter = len(instances[0].filtered_resps) == 1
    for filter_key in instances[0].filtered_resps:
        metrics = task.process_results(doc, [inst.filtered_resps[filter_key] for inst in instances])
        for metric, value in metrics.items():
            state.raw_metrics[(metric, filter_key)].append(value)
            per_sample[metric if single_filter else f"{metric},{filter_key}"] = value
    state.n_samples += 1
    return sample_row(task, doc_id, doc, instances, per_sample, state.token_counts)


def aggregate(task: Any, raw_metrics: dict[tuple[str, str], list], bootstrap_iters: int = 100000) -> list[dict]:
    """lm-eval's aggregation and stderr for one task's per-sample metrics."""
    from lm_eval.api.metrics import mean, stderr_for_metric

    aggregations = task.aggregation()
    higher = task.higher_is_better() or {}
    rows = []
    for (metric, filter_key), items in raw_metrics.items():
        agg_fn = aggregations.get(metric, mean)
        value = agg_fn(items)
        stderr = None
        if bootstrap_iters > 0 and len(items) > 1:
            iters = min(bootstrap_iters, 100) if metric in ("bleu", "chrf", "chrf++", "ter") else bootstrap_iters
            stderr_fn = stderr_for_metric(metric=agg_fn, bootstrap_iters=iters)
            stderr = float(stderr_fn(items)) if stderr_fn else None
        value = float(value) if isinstance(value, (int, float)) else value
        if isinstance(stderr, float) and math.isnan(stderr):
            stderr = None
        rows.append({"task": task.task_name, "metric": metric, "filter": filter_key, "value": value,
                     "stderr": stderr, "n": len(items), "higher_is_better": higher.get(metric)})
    return rows


def build_requests(tasks: dict[str, Any], backend: Backend, *, limit: int | float | None,
                   apply_chat_template: bool = False, system_instructions: dict[str, str | None] | None = None,
                   fewshot_as_multiturn: bool = False) -> None:
    """Let lm-eval build every task's request instances (prompts, few-shot examples), each task with its
    own system prompt (``system_instructions``, by task name)."""
    from unittest import mock

    import lm_eval.api.task

    # lm-eval draws a progress bar per task here; the harness shows one bar for the whole run.
    with mock.patch.object(lm_eval.api.task, "tqdm", lambda iterable, **_: iterable):
        for name, task in tasks.items():
            _build_task_requests(task, backend, limit, apply_chat_template, (system_instructions or {}).get(name),
                                 fewshot_as_multiturn)


def _build_task_requests(task: Any, backend: Backend, limit: int | float | None, apply_chat_template: bool,
                         system_instruction: str | None, fewshot_as_multiturn: bool) -> None:
    from lm_eval.evaluator_utils import get_sample_size

    task.build_all_requests(
        limit=get_sample_size(task, limit), rank=0, world_size=1, cache_requests=False,
        system_instruction=system_instruction, apply_chat_template=apply_chat_template,
        fewshot_as_multiturn=fewshot_as_multiturn,
        chat_template=backend.apply_chat_template if apply_chat_template else None,
        tokenizer_name=backend.tokenizer_name if apply_chat_template else "",
    )


def cache_key(namespace: str | None, request_type: str, args: tuple) -> str | None:
    """Key of a request's response; None when it must not be cached (sampling without a fixed seed)."""
    if namespace is None:
        return None
    if request_type == "generate_until":
        kwargs = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        sampled = kwargs.get("do_sample") or float(kwargs.get("temperature") or 0) > 0
        if sampled and kwargs.get("seed") is None:
            return None
    text = json.dumps([namespace, request_type, list(args)], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Reuse:
    """Where responses can come from without a model call."""

    namespace: str | None = None  # model fingerprint + output-affecting settings; None: no cache
    lookup: Callable[[list[str]], dict[str, Any]] = lambda keys: {}
    resumed: dict[str, dict[tuple[int, int, int], Any]] = field(default_factory=dict)  # task -> stored responses


@dataclass
class _Work:
    task: str
    inst: Any
    repeat: int
    key: str | None


def _as_result(request_type: str, stored: Any) -> Any:
    """A stored (JSON) response back in the shape the scorer expects."""
    if request_type in ("loglikelihood", "loglikelihood_rolling"):
        return tuple(stored)
    return stored


def evaluate(tasks: dict[str, Any], backend: Backend, sink: ResultSink,
             progress: Callable[[int], None] = lambda n: None, bootstrap_iters: int = 100000,
             reuse: Reuse | None = None, log: Callable[[str], None] = lambda message: None) -> dict[str, TaskOutcome]:
    """Run every task's requests through ``backend``; returns aggregated metrics per task.

    Responses found in ``reuse`` (a resumed run's own, or the cache) are not recomputed. Requests of one type
    from all tasks are batched together, as in lm-eval.
    """
    reuse = reuse or Reuse()
    states = {name: _TaskState(task) for name, task in tasks.items()}
    work: list[_Work] = []
    for name, state in states.items():
        for inst in state.task.instances:
            state.instances[inst.doc_id].append(inst)
            state.pending[inst.doc_id] = state.pending.get(inst.doc_id, 0) + inst.repeats
            key = cache_key(reuse.namespace, inst.request_type, inst.args)
            work.extend(_Work(name, inst, r, key) for r in range(inst.repeats))
        state.docs_left = len(state.pending)
    started = {name: time.perf_counter() for name in states}
    elapsed: dict[str, float] = {}

    def deliver(items: list[_Work], results: list[Any], store_rows: bool) -> None:
        requests: dict[str, list[dict]] = defaultdict(list)
        samples: dict[str, list[dict]] = defaultdict(list)
        for item, result in zip(items, results, strict=True):
            state, inst = states[item.task], item.inst
            if inst.request_type == "loglikelihood_rolling":
                state.token_counts[(inst.doc_id, inst.idx)] = result[1]
            inst.resps.append(result[0] if inst.request_type == "loglikelihood_rolling" else result)
            state.n_requests += 1
            if store_rows:
                requests[item.task].append({"doc_id": inst.doc_id, "idx": inst.idx, "repeat": item.repeat,
                                            "request_type": inst.request_type, "arguments": _json(list(inst.args)),
                                            "response": _json(result), "cache_key": item.key})
            state.pending[inst.doc_id] -= 1
            if state.pending[inst.doc_id] == 0:
                samples[item.task].append(_score_doc(state, inst.doc_id))
                state.docs_left -= 1
                if state.docs_left == 0:
                    elapsed[item.task] = time.perf_counter() - started[item.task]
        sink.on_batch(dict(requests), dict(samples))
        progress(len(items))

    resumed = [w for w in work if (w.inst.doc_id, w.inst.idx, w.repeat) in reuse.resumed.get(w.task, {})]
    if resumed:
        deliver(resumed, [_as_result(w.inst.request_type, reuse.resumed[w.task][(w.inst.doc_id, w.inst.idx, w.repeat)])
                          for w in resumed], store_rows=False)
    done = {id(w) for w in resumed}
    rest = [w for w in work if id(w) not in done]
    cached = reuse.lookup(sorted({w.key for w in rest if w.key}))
    hits = [w for w in rest if w.key in cached]
    if hits:
        deliver(hits, [_as_result(w.inst.request_type, cached[w.key]) for w in hits], store_rows=True)
    hit_ids = {id(w) for w in hits}
    todo = [w for w in rest if id(w) not in hit_ids]
    if resumed or hits:
        calls = f"{len(todo)} model calls" if todo else "no model calls"
        log(f"{len(resumed)} requests resumed, {len(hits)} answered from the cache, {calls}")
    by_type: dict[str, list[_Work]] = defaultdict(list)
    for item in todo:
        by_type[item.inst.request_type].append(item)
    for request_type, items in by_type.items():
        method = getattr(backend, request_type)  # backends name their methods after lm-eval's request types
        args = [w.inst.args[0] if request_type == "loglikelihood_rolling" else w.inst.args for w in items]
        for positions, results in method(args):
            deliver([items[p] for p in positions], list(results), store_rows=True)
    outcomes = {}
    for name, state in states.items():
        outcomes[name] = TaskOutcome(name, aggregate(state.task, state.raw_metrics, bootstrap_iters),
                                     state.n_samples, state.n_requests,
                                     elapsed.get(name, time.perf_counter() - started[name]))
    return outcomes
