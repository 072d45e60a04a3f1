"""Data parallelism: one task's requests split across N engines, each a Ray actor holding one model.

The engines are built once, when the backend is opened, and answer every task of the command (lm-eval's
vLLM model rebuilds its Ray engines on every call). Requests go out in contiguous chunks to whichever engine
is free and results come back with their positions, so the runner stores them as they arrive; each request
is answered exactly as a single engine would answer it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from harness.backends.base import BatchResult
from harness.distributed.cluster import cluster_gpus, connect, unwrap
from harness.models.resolve import ResolvedModel


class Replica:
    """One engine (any local backend) inside a Ray actor."""

    def __init__(self, backend: str, model: ResolvedModel, options: dict[str, Any]) -> None:
        from harness.registry.backends import backend_class

        self.backend = backend_class(backend)(model, **options)

    def describe(self) -> dict[str, Any]:
        return self.backend.describe()

    def chat_template(self) -> str | None:
        return getattr(self.backend.tokenizer, "chat_template", None)

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool) -> str:
        return self.backend.apply_chat_template(history, add_generation_prompt)

    def answer(self, method: str, positions: list[int], requests: list[Any]) -> tuple[list[int], list[Any]]:
        """Run ``method`` (loglikelihood, loglikelihood_rolling, generate_until) on a chunk of requests."""
        results: list[Any] = [None] * len(requests)
        for local, values in getattr(self.backend, method)(requests):
            for pos, value in zip(local, values, strict=True):
                results[pos] = value
        return positions, results

    def close(self) -> None:
        self.backend.close()


class _Tokenizer:
    """What the runner reads from a backend's tokenizer."""

    def __init__(self, chat_template: str | None) -> None:
        self.chat_template = chat_template


class DataParallelBackend:
    """``size`` engines of backend ``backend`` behind the Backend protocol.

    Each engine asks Ray for ``gpus_per_engine`` GPUs when the cluster has GPUs and ``device`` is not ``cpu``,
    else for one CPU.
    """

    def __init__(self, backend: str, model: ResolvedModel, size: int, *, gpus_per_engine: int, device: str,
                 dtype: str, batch_size: int, model_args: dict[str, Any]) -> None:
        self.ray = connect()
        on_gpu = device != "cpu" and cluster_gpus(self.ray) > 0
        options = {"device": device, "dtype": dtype, "batch_size": batch_size, "model_args": model_args}
        actor = self.ray.remote(Replica).options(num_cpus=1, num_gpus=gpus_per_engine if on_gpu else 0,
                                                 max_restarts=0)
        self.replicas = [actor.remote(backend, model, options) for _ in range(size)]
        self.name = backend
        self.size = size
        self.batch_size = batch_size
        self.tokenizer_name = model.path
        described = self._get([r.describe.remote() for r in self.replicas])  # a replica that cannot load fails here
        self._described = described[0]
        self.tokenizer = _Tokenizer(self._get(self.replicas[0].chat_template.remote()))

    def _get(self, refs: Any) -> Any:
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayError as exc:
            raise unwrap(self.ray, exc) from None

    def describe(self) -> dict[str, Any]:
        return {**self._described, "batch_size": self.batch_size, "data_parallel_size": self.size}

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return self._get(self.replicas[0].apply_chat_template.remote(history, add_generation_prompt))

    def _spread(self, method: str, requests: Sequence[Any]) -> Iterator[BatchResult]:
        from ray.util import ActorPool

        if not requests:
            return
        size = max(1, min(self.batch_size * 4, math.ceil(len(requests) / len(self.replicas))))
        chunks = [list(range(start, min(start + size, len(requests)))) for start in range(0, len(requests), size)]
        pool = ActorPool(self.replicas)
        results = pool.map_unordered(
            lambda replica, positions: replica.answer.remote(method, positions, [requests[p] for p in positions]),
            chunks)
        try:
            yield from results
        except self.ray.exceptions.RayError as exc:
            raise unwrap(self.ray, exc) from None

    def loglikelihood(self, requests: Sequence[Any]) -> Iterator[BatchResult]:
        yield from self._spread("loglikelihood", requests)

    def loglikelihood_rolling(self, texts: Sequence[str]) -> Iterator[BatchResult]:
        yield from self._spread("loglikelihood_rolling", texts)

    def generate_until(self, requests: Sequence[Any]) -> Iterator[BatchResult]:
        yield from self._spread("generate_until", requests)

    def close(self) -> None:
        """Release every engine and end its actor."""
        try:
            self.ray.get([r.close.remote() for r in self.replicas])
        except self.ray.exceptions.RayError:
            pass  # a dead replica has nothing left to release
        for replica in self.replicas:
            self.ray.kill(replica)
        self.replicas = []
