"""Evaluate lm-eval tasks with a harness backend, streaming results as batches finish.

lm-eval builds the requests (prompts, few-shot sampling), filters responses,
scores each document (``process_results``) and aggregates; the harness only
executes the requests. Unlike lm-eval, a document is scored and handed to the
sink as soon as all of its requests are answered, so nothing waits for the end.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.backends.base import Backend
from harness.records import Outcome, SampleRow, to_json
from harness.store.cache_keys import cache_key
from harness.text.lm_eval_output import Scored


class ResultSink(Protocol):
    """Receives results as they are produced (the store in practice)."""

    def on_batch(self, task_requests: dict[str, list[dict]], task_samples: dict[str, list[dict]]) -> None:
        """Request rows and scored sample rows, keyed by task name."""
        ...


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
    answered_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # source -> responses
    scored: list[Scored] | None = None  # every scored document, kept for lm-eval's output files


def _first_response(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def sample_row(task: Any, doc_id: int, doc: dict, instances: list, metrics: dict[str, Any],
               token_counts: dict[tuple[int, int], int]) -> SampleRow:
    """One sample: input, target, prediction and per-sample metrics, shaped by output type."""
    output_type = task.OUTPUT_TYPE
    first_filter = next(iter(instances[0].filtered_resps))
    filtered = [inst.filtered_resps[first_filter] for inst in instances]
    row: dict[str, Any] = {}
    target = task.doc_to_target(doc)
    if output_type == "multiple_choice":
        choices = task.doc_to_choice(doc)
        lls = [float(r[0]) for r in filtered]
        if isinstance(target, str) and target in choices:
            target = choices.index(target)
        row.update(choices=list(choices), loglikelihoods=lls, prediction=max(range(len(lls)), key=lls.__getitem__))
    elif output_type == "generate_until":
        if isinstance(target, int) and task.config.doc_to_choice is not None:
            target = task.doc_to_choice(doc)[target]
        row.update(raw_output=instances[0].resps[0], prediction=_first_response(filtered[0]))
    elif output_type == "loglikelihood_rolling":
        row.update(loglikelihood=float(filtered[0]), token_count=token_counts.get((doc_id, instances[0].idx)))
    else:  # plain loglikelihood (e.g. lambada): prediction is whether greedy decoding matches
        row.update(loglikelihoods=[float(r[0]) for r in filtered], prediction=[bool(r[1]) for r in filtered])
    return SampleRow(doc_id=doc_id, output_type=output_type, input=instances[0].args[0], target=target,
                     metrics=metrics, doc=doc, **row)


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
        if state.scored is not None:
            state.scored.append(Scored(doc_id, filter_key, instances, metrics))
    state.n_samples += 1
    return sample_row(task, doc_id, doc, instances, per_sample, state.token_counts).stored()


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


@dataclass
class Reuse:
    """Where responses can come from without a model call: the cache (responses found under this namespace's
    keys, looked up by the plan) and a resumed run's own stored responses."""

    namespace: str | None = None  # model fingerprint + output-affecting settings; None: no cache
    cached: dict[str, Any] = field(default_factory=dict)  # cache key -> stored response
    resumed: dict[str, dict[tuple[int, int, int], Any]] = field(default_factory=dict)  # task -> stored responses


@dataclass
class _Work:
    task: str
    inst: Any
    repeat: int
    key: str | None

    @property
    def where(self) -> tuple[int, int, int]:
        return self.inst.doc_id, self.inst.idx, self.repeat


def _as_result(request_type: str, stored: Any) -> Any:
    """A stored (JSON) response back in the shape the scorer expects."""
    if request_type in ("loglikelihood", "loglikelihood_rolling"):
        return tuple(stored)
    return stored


class _Evaluation:
    """The requests of every task, answered from the resumed run, the cache or the backend; each document is
    scored and handed to the sink as soon as its last response arrives."""

    def __init__(self, tasks: dict[str, Any], sink: ResultSink, progress: Callable[[int], None],
                 reuse: Reuse, scored: dict[str, list[Scored]] | None = None) -> None:
        self.sink, self.progress, self.reuse = sink, progress, reuse
        self.states = {name: _TaskState(task, scored=None if scored is None else scored.setdefault(name, []))
                       for name, task in tasks.items()}
        self.work: list[_Work] = []
        for name, state in self.states.items():
            for inst in state.task.instances:
                state.instances[inst.doc_id].append(inst)
                state.pending[inst.doc_id] = state.pending.get(inst.doc_id, 0) + inst.repeats
                key = cache_key(reuse.namespace, inst.request_type, inst.args)
                self.work.extend(_Work(name, inst, r, key) for r in range(inst.repeats))
            state.docs_left = len(state.pending)
        self.started = {name: time.perf_counter() for name in self.states}
        self.elapsed: dict[str, float] = {}

    def deliver(self, items: list[_Work], results: list[Any], source: str) -> None:
        """Hand responses to their documents, counting where they came from (``model``, ``cache`` or ``resumed``);
        store request rows (unless the resumed run already holds them) and scored samples."""
        requests: dict[str, list[dict]] = defaultdict(list)
        samples: dict[str, list[dict]] = defaultdict(list)
        for item, result in zip(items, results, strict=True):
            state, inst = self.states[item.task], item.inst
            if inst.request_type == "loglikelihood_rolling":
                state.token_counts[(inst.doc_id, inst.idx)] = result[1]
            inst.resps.append(result[0] if inst.request_type == "loglikelihood_rolling" else result)
            state.n_requests += 1
            state.answered_by[source] += 1
            if source != "resumed":
                requests[item.task].append({"doc_id": inst.doc_id, "idx": inst.idx, "repeat": item.repeat,
                                            "request_type": inst.request_type, "arguments": to_json(list(inst.args)),
                                            "response": to_json(result), "cache_key": item.key})
            state.pending[inst.doc_id] -= 1
            if state.pending[inst.doc_id] == 0:
                samples[item.task].append(_score_doc(state, inst.doc_id))
                state.docs_left -= 1
                if state.docs_left == 0:
                    self.elapsed[item.task] = time.perf_counter() - self.started[item.task]
        self.sink.on_batch(dict(requests), dict(samples))
        self.progress(len(items))

    def answer_stored(self, log: Callable[[str], None]) -> list[_Work]:
        """Deliver what the resumed run and the cache hold; returns the requests left for the model."""
        resumed = [w for w in self.work if w.where in self.reuse.resumed.get(w.task, {})]
        if resumed:
            self.deliver(resumed, [_as_result(w.inst.request_type, self.reuse.resumed[w.task][w.where])
                                   for w in resumed], source="resumed")
        done = {id(w) for w in resumed}
        hits = [w for w in self.work if id(w) not in done and w.key in self.reuse.cached]
        if hits:
            self.deliver(hits, [_as_result(w.inst.request_type, self.reuse.cached[w.key]) for w in hits],
                         source="cache")
        done |= {id(w) for w in hits}
        todo = [w for w in self.work if id(w) not in done]
        if resumed or hits:
            calls = f"{len(todo)} model calls" if todo else "no model calls"
            log(f"{len(resumed)} requests resumed, {len(hits)} answered from the cache, {calls}")
        return todo

    def answer(self, backend: Backend, todo: list[_Work]) -> None:
        """The backend answers the rest, requests of one type from all tasks batched together, as in lm-eval."""
        by_type: dict[str, list[_Work]] = defaultdict(list)
        for item in todo:
            by_type[item.inst.request_type].append(item)
        for request_type, items in by_type.items():
            method = getattr(backend, request_type)  # backends name their methods after lm-eval's request types
            args = [w.inst.args[0] if request_type == "loglikelihood_rolling" else w.inst.args for w in items]
            for positions, results in method(args):
                self.deliver([items[p] for p in positions], list(results), source="model")

    def outcomes(self, bootstrap_iters: int) -> dict[str, Outcome]:
        return {name: Outcome(metrics=aggregate(state.task, state.raw_metrics, bootstrap_iters),
                              seconds=self.elapsed.get(name, time.perf_counter() - self.started[name]),
                              n_samples=state.n_samples, n_requests=state.n_requests,
                              n_cached=state.answered_by["cache"], n_resumed=state.answered_by["resumed"])
                for name, state in self.states.items()}


def evaluate(tasks: dict[str, Any], backend: Backend | None, sink: ResultSink,
             progress: Callable[[int], None] = lambda n: None, bootstrap_iters: int = 100000,
             reuse: Reuse | None = None, log: Callable[[str], None] = lambda message: None,
             scored: dict[str, list[Scored]] | None = None) -> dict[str, Outcome]:
    """Run every task's requests through ``backend``; returns aggregated metrics per task.

    Responses found in ``reuse`` (a resumed run's own, or the cache) are not recomputed; ``backend`` may be None
    when they answer every request (a run re-scored from stored outputs). ``scored``, when given, receives every
    scored document per task (for lm-eval's output files).
    """
    evaluation = _Evaluation(tasks, sink, progress, reuse or Reuse(), scored)
    todo = evaluation.answer_stored(log)
    if todo:
        if backend is None:
            raise RuntimeError(f"{len(todo)} requests need a model and none was loaded")
        evaluation.answer(backend, todo)
    return evaluation.outcomes(bootstrap_iters)
