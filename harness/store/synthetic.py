"""Synthetic runs written through the store's own API, for benchmarks and tests of reports and gates.

They are marked as such (backend ``synthetic``, ``model_info.synthetic``) so no one mistakes them for
evaluations. Each run's metrics are the means of the per-sample outcomes given, as real runs' are.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harness.store import Store, process_identity, utcnow


@dataclass
class SyntheticRun:
    """One run to write: model, task and per-sample outcomes per metric."""

    model: str
    task: str
    outcomes: dict[str, list[float]]
    family: str = "synthetic"
    parameters: int | None = None
    revision: str | None = None
    task_hash: str | None = None
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    filter: str = "none"
    prompt_strategy: str | None = None
    output_type: str = "generate_until"
    inputs: list[str] | None = None
    predictions: list[str] | None = None
    samples_per_s: float = 10.0
    age_s: float = 0.0  # how long ago the run started (to order runs)
    limit: int | float | None = None  # as --limit records it: the run is not complete
    cached: bool = False  # every answer from the request cache: no throughput measured


def write_runs(store: Store, runs: list[SyntheticRun]) -> list[str]:
    """Write finished runs with samples and metrics; returns their ids in order."""
    now = utcnow()
    ids = [f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}" for _ in runs]
    rows, samples = [], []
    for run_id, run in zip(ids, runs):
        n = len(next(iter(run.outcomes.values())))
        started = now - timedelta(seconds=run.age_s)
        rows.append({
            "run_id": run_id, "invocation_id": uuid.uuid4().hex[:12], "model": run.model,
            "model_fingerprint": "synthetic:" + hashlib.sha256(run.model.encode()).hexdigest()[:16],
            "model_source": "synthetic", "revision": run.revision, "dtype": "float32", "backend": "synthetic",
            "device": "cpu", "task": run.task,
            "task_hash": run.task_hash or hashlib.sha256(run.task.encode()).hexdigest(),
            "output_type": run.output_type, "settings_hash": "synthetic",
            "settings": json.dumps({"synthetic": True, "prompt_strategy": run.prompt_strategy, "limit": run.limit}),
            "versions": json.dumps({"harness": "synthetic"}),
            "model_info": json.dumps({"name": run.model, "family": run.family, "parameters": run.parameters,
                                      "synthetic": True}),
            "status": "running", "started_at": started, **process_identity()})
        for doc_id in range(n):
            values = {metric: float(v[doc_id]) for metric, v in run.outcomes.items()}
            samples.append({
                "run_id": run_id, "task": run.task, "doc_id": doc_id, "output_type": run.output_type,
                "input": run.inputs[doc_id] if run.inputs else f"question {doc_id}", "choices": None,
                "target": json.dumps("answer"),
                "prediction": json.dumps(run.predictions[doc_id] if run.predictions else "answer"),
                "loglikelihoods": None, "raw_output": None, "loglikelihood": None, "token_count": None,
                "metrics": json.dumps(values), "doc": json.dumps({"id": doc_id})})
    store.create_runs(rows)
    store.append([], samples, [])
    for run_id, run in zip(ids, runs):
        n = len(next(iter(run.outcomes.values())))
        speed = None if run.cached else run.samples_per_s
        store.finish_run(run_id, [_metric(run, metric, values) for metric, values in run.outcomes.items()], {
            "n_samples": n, "n_requests": n, "n_model_answers": 0 if run.cached else n,
            "n_cached_answers": n if run.cached else 0, "duration_s": n / run.samples_per_s, "samples_per_s": speed,
            "requests_per_s": speed})
    return ids


def _metric(run: SyntheticRun, metric: str, values: list[float]) -> dict[str, Any]:
    n = len(values)
    mean = math.fsum(values) / n
    stderr = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else None
    return {"task": run.task, "metric": metric, "filter": run.filter, "value": mean, "stderr": stderr, "n": n,
            "higher_is_better": run.higher_is_better.get(metric, True)}
