"""Typed records the run layer passes around, serialised to exactly the store's columns and the API's dicts.

``Outcome`` is what a runner produces for one task; ``SampleRow`` one stored sample; ``RunResult`` what
``harness.run`` returns per run. They sit below every task type and the store, and import nothing of the harness.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Sample columns holding JSON text in the store.
JSON_SAMPLE_COLUMNS = ("choices", "target", "prediction", "loglikelihoods", "metrics", "doc")


def to_json(value: Any) -> str | None:
    """JSON text of a value for the store (None stays NULL)."""
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class SampleRow:
    """One scored document or item: input, target, prediction and per-sample metrics, as Python values."""

    doc_id: int
    output_type: str
    input: Any
    target: Any = None
    prediction: Any = None
    metrics: dict[str, Any] | None = None
    doc: Any = None
    choices: list[Any] | None = None
    loglikelihoods: list[float] | None = None
    raw_output: str | None = None
    loglikelihood: float | None = None
    token_count: int | None = None

    def stored(self) -> dict[str, Any]:
        """The row as the store's ``samples`` columns (JSON columns as text; run id and task added by the writer)."""
        row = asdict(self)
        return row | {key: to_json(row[key]) for key in JSON_SAMPLE_COLUMNS}


@dataclass
class Outcome:
    """What a runner produces for one task: metric rows, counts and the seconds spent evaluating.

    ``samples`` holds the sample rows when the runner keeps them (harness-native task types do; lm-eval tasks
    stream theirs to the writer as batches finish); ``n_samples`` and ``n_requests`` count what they did not keep.
    Of the requests, ``n_cached`` were answered from the cache and ``n_resumed`` by the run's own interrupted
    attempt (``--resume``); the model answered the rest in this attempt (``model_calls``).
    """

    metrics: list[dict[str, Any]] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    seconds: float = 0.0
    n_samples: int | None = None
    n_requests: int | None = None
    n_cached: int = 0
    n_resumed: int = 0

    @property
    def sample_count(self) -> int:
        return self.n_samples if self.n_samples is not None else len(self.samples)

    @property
    def request_count(self) -> int:
        return self.n_requests if self.n_requests is not None else self.sample_count

    @property
    def model_calls(self) -> int:
        """Requests the model answered in this attempt: what the throughput measures."""
        return self.request_count - self.n_cached - self.n_resumed


@dataclass(frozen=True)
class RunResult:
    """One run as ``harness.run`` returns it."""

    run_id: str
    invocation_id: str
    task: str
    n_samples: int
    metrics: list[dict[str, Any]]
    status: str = "finished"
    n_model_answers: int | None = None  # answers from model calls (None: a run stored before they were counted)
    n_cached_answers: int | None = None  # answers from the request cache

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "invocation_id": self.invocation_id, "task": self.task,
                "status": self.status, "n_samples": self.n_samples, "n_model_answers": self.n_model_answers,
                "n_cached_answers": self.n_cached_answers, "metrics": self.metrics}


@dataclass(frozen=True)
class RunRecord:
    """A ``runs`` row as a run starts (status ``running``); JSON columns held as Python values."""

    run_id: str
    invocation_id: str
    model: str
    model_fingerprint: str
    model_source: str
    revision: str | None
    dtype: str
    backend: str
    device: str
    task: str
    task_hash: str
    output_type: str
    settings: dict[str, Any]
    settings_hash: str
    versions: dict[str, str]
    model_info: dict[str, Any]
    git_commit: str | None
    started_at: Any
    pid: int
    hostname: str
    status: str = "running"

    def stored(self) -> dict[str, Any]:
        """The row as the store's ``runs`` columns."""
        row = asdict(self)
        return row | {key: json.dumps(row[key], default=str) for key in ("settings", "versions", "model_info")}
