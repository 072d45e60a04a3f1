"""Opening a text run's engine: a backend instance, data-parallel engines, or the warm vLLM engine kept
between runs of one process; and the check that the engine reports what the plan expected."""

from __future__ import annotations

import json
from typing import Any

from harness.errors import HarnessError
from harness.core.model_choice import ModelChoice

# vLLM engines take ~30 s to start: the last one stays warm for later runs in this process.
_WARM: dict[tuple, Any] = {}


def open_engine(choice: ModelChoice, *, device: str, dtype: str, batch_size: int, adapter: str | None,
                quantization: str | None, base_url: str | None) -> tuple[Any, bool]:
    """A backend instance and whether the caller owns it (and must close it)."""
    from harness.registry.backends import backend_class

    model_args = choice.model_args
    if choice.data_parallel_size > 1:
        from harness.distributed.data_parallel import DataParallelBackend

        per_engine = model_args.get("tensor_parallel_size", 1) * model_args.get("pipeline_parallel_size", 1)
        return DataParallelBackend(choice.backend, choice.resolved, choice.data_parallel_size,
                                   gpus_per_engine=per_engine, device=device, dtype=dtype, batch_size=batch_size,
                                   model_args=model_args), True
    cls = backend_class(choice.backend)
    if choice.backend != "vllm":
        extra = {"base_url": base_url} if choice.backend == "openai" else {}
        extra |= {k: v for k, v in (("adapter", adapter), ("quantization", quantization)) if v is not None}
        return cls(choice.resolved, device=device, dtype=dtype, batch_size=batch_size, model_args=model_args,
                   **extra), True
    key = (choice.backend, choice.resolved.fingerprint, choice.resolved.path, device, dtype,
           json.dumps(model_args, sort_keys=True))
    if key not in _WARM:
        release_engines()
        _WARM[key] = cls(choice.resolved, device=device, dtype=dtype, batch_size=batch_size, model_args=model_args)
    engine = _WARM[key]
    engine.batch_size = batch_size
    return engine, False


def release_engines() -> None:
    """Shut down the warm vLLM engine kept between runs in this process."""
    for engine in _WARM.values():
        engine.close()
    _WARM.clear()


def check_engine(described: dict[str, Any], planned: dict[str, Any], backend: str) -> None:
    """Fail with one line when the loaded engine reports other settings than the plan recorded."""
    for key in ("device", "dtype", "max_length"):
        if planned.get(key) is not None and described.get(key) != planned[key]:
            hint = " (pin it with --max-model-len or --model-args max_length=N)" if key == "max_length" else ""
            raise HarnessError(f"the {backend} engine reports {key} {described.get(key)} but the plan expected "
                               f"{planned[key]}{hint}; nothing was run")
