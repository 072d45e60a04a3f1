"""Which backend runs the model, which weights it means and what the engine will report, decided before any
weights load."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import HarnessError
from harness.models.resolve import ResolvedModel
from harness.redact import redact
from harness.core.options import AUTO_CPU_BATCH, AUTO_MAX_BATCH
from harness.core.request import RunRequest

# Options handed to vLLM's engine (through --model-args) when the backend is vllm.
_VLLM_ENGINE_OPTIONS = ("tensor_parallel_size", "pipeline_parallel_size", "gpu_memory_utilization", "max_model_len")


@dataclass(frozen=True)
class ModelChoice:
    """The model and backend of a text run, and the engine settings the backend will report."""

    name: str
    resolved: ResolvedModel
    backend: str
    reason: str
    model_args: dict[str, Any]
    engine: dict[str, Any] = field(default_factory=dict)  # device, dtype, max_length as describe() reports them
    data_parallel_size: int = 1
    batch_size: int | str = 8  # "auto:N" when the backend finds the largest batch (at most N) once loaded

    @property
    def chat_default(self) -> bool:
        return bool(self.resolved.spec and self.resolved.spec.chat_template)


def choose_model(request: RunRequest, fetch: bool) -> ModelChoice:
    """Backend, weights (downloaded only when ``fetch``) and engine settings of a text run; loads nothing."""
    from harness.backends.base import check_args
    from harness.registry.backends import backend_class, choose_backend

    if request.model is None:
        raise HarnessError("--model is required (only 'fvd' with --generated DIR scores videos without one)")
    check_variant(request)
    name, reason = choose_backend(request.backend, "transformers" if request.adapter or request.quantization
                                  else preferred_backend(request.model))
    request.check_backend(name)
    resolved = resolve_for(name, request.model, request.revision, request.base_url, fetch)
    if request.adapter is not None or request.quantization is not None:
        from harness.models.resolve import variant_fingerprint

        resolved = replace(resolved, fingerprint=variant_fingerprint(resolved.fingerprint, request.adapter,
                                                                     request.quantization))
    if resolved.spec and resolved.spec.modality != "text":
        raise HarnessError(f"model {request.model!r} is a {resolved.spec.modality} model; text tasks need a "
                           "language model")
    tensor_parallel = fit_gpus(name, resolved, request)
    model_args = dict(request.model_args)
    if name == "vllm":
        engine_options = {k: request.options[k] for k in _VLLM_ENGINE_OPTIONS} | {
            "tensor_parallel_size": tensor_parallel}
        model_args |= {k: v for k, v in engine_options.items() if v is not None}
    cls = backend_class(name)
    check_args(name, cls.args, model_args)  # the keys the backend declares, before anything loads
    engine = cls.planned(resolved, device=request.device, dtype=request.dtype, model_args=model_args)
    size = request.data_parallel_size or 1
    return ModelChoice(request.model, resolved, name, reason, model_args, engine, size if size > 1 else 1,
                       resolved_batch_size(request, name, engine))


def resolved_batch_size(request: RunRequest, backend: str, engine: dict[str, Any]) -> int | str:
    """``--batch-size`` as the run uses it. ``auto`` (lm-eval's) is 16 on the CPU, and for vLLM and servers,
    which schedule their own batches; on a GPU the transformers backend finds the largest batch that fits once
    the model has loaded (``auto:N``, N the most it may pick, lm-eval's 64 unless --max-batch-size)."""
    if request.batch_size != "auto":
        return request.batch_size
    cap = request.max_batch_size or AUTO_MAX_BATCH
    if backend == "transformers" and str(engine.get("device", "")).startswith("cuda"):
        return f"auto:{cap}"
    return min(AUTO_CPU_BATCH, cap)


def preferred_backend(model: str) -> str | None:
    """The registry's preferred backend for ``model`` (None for hub ids and folders)."""
    from harness.models.resolve import split_revision
    from harness.registry import all_models

    spec = all_models().get(split_revision(model, None)[0])
    return spec.backend if spec else None


def resolve_for(backend: str, model: str, revision: str | None, base_url: str | None, fetch: bool) -> ResolvedModel:
    """Local weights for local backends; for a server, its name plus a local tokenizer when there is one."""
    from harness.models.resolve import resolve_model

    if backend != "openai":
        return resolve_model(model, revision, weights=fetch)
    fingerprint = f"openai:{redact((base_url or '').rstrip('/'))}#{model}"  # credentials are no identity
    try:
        local = resolve_model(model, revision, weights=False)
    except HarnessError:  # served elsewhere: generation still works, log-likelihoods need a tokenizer
        return ResolvedModel(model, "", fingerprint, "openai", None, revision)
    return ResolvedModel(model, local.path, fingerprint, "openai", local.spec, revision)


def check_variant(request: RunRequest) -> None:
    """Refuse an adapter or quantization this run cannot load, with one line, before anything loads."""
    import torch

    if request.adapter is None and request.quantization is None:
        return
    if request.backend not in ("auto", "transformers"):
        raise HarnessError(f"--adapter and --quantization load through --backend transformers; not {request.backend}")
    if request.adapter is not None:
        from harness.models.resolve import check_adapter

        check_adapter(request.adapter)
    if request.quantization is None:
        return
    if request.device == "cpu" or not torch.cuda.is_available():
        raise HarnessError(f"--quantization {request.quantization} loads through bitsandbytes on a CUDA GPU and this "
                           "run is on the CPU; drop it (an --adapter works on the CPU)")
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise HarnessError("--quantization needs bitsandbytes: pip install bitsandbytes")


def fit_gpus(backend: str, resolved: ResolvedModel, request: RunRequest) -> int | None:
    """Refuse a GPU run with fewer GPUs than the model needs; returns the tensor-parallel size to use (vLLM on
    GPUs defaults it to the registry's ``min_gpus``)."""
    import torch

    from harness.devices import check_gpus

    tensor_parallel, pipeline_parallel = request.tensor_parallel_size, request.pipeline_parallel_size
    data_parallel = request.data_parallel_size
    if data_parallel is not None and data_parallel > 1 and backend == "openai":
        raise HarnessError("--data-parallel-size splits requests across local engines; a server batches its own "
                           "requests (raise max_concurrency in --model-args instead)")
    if backend == "openai" or request.device == "cpu" or not torch.cuda.is_available():
        return tensor_parallel
    need = resolved.spec.min_gpus if resolved.spec else 1
    if backend == "vllm" and tensor_parallel is None and pipeline_parallel is None and need > 1:
        tensor_parallel = need
    per_engine = (tensor_parallel or 1) * (pipeline_parallel or 1) if backend == "vllm" else need
    # data-parallel engines are Ray actors: the cluster's scheduler finds each its GPUs
    visible = torch.cuda.device_count() if (data_parallel or 1) == 1 else per_engine
    check_gpus(resolved.name, need, per_engine, visible)
    return tensor_parallel
