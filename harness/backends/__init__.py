"""Backends execute requests; the runner picks one by name through this table."""

from __future__ import annotations

import importlib
import importlib.util

from harness.backends.base import Backend, BatchResult
from harness.errors import HarnessError, did_you_mean

__all__ = ["Backend", "BatchResult", "BACKENDS", "choose_backend", "load_backend_class"]

BACKENDS: dict[str, str] = {"transformers": "harness.backends.hf:TransformersBackend",
                            "vllm": "harness.backends.vllm:VLLMBackend",
                            "openai": "harness.backends.openai:OpenAIBackend"}
ALIASES = {"hf": "transformers"}


def load_backend_class(name: str) -> type:
    """Import the backend class registered as ``name``."""
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _vllm_usable() -> tuple[bool, str]:
    if importlib.util.find_spec("vllm") is None:
        return False, "vLLM is not installed"
    import torch

    if not torch.cuda.is_available():
        return False, "no GPU"
    return True, ""


def choose_backend(requested: str, preferred: str | None) -> tuple[str, str]:
    """Resolve ``--backend`` to a backend name; returns (name, reason printed to the user).

    ``auto`` takes the registry's preference when it can run here (vLLM needs a GPU and vLLM), else transformers.
    """
    requested = ALIASES.get(requested, requested)
    if requested != "auto":
        if requested not in BACKENDS:
            raise HarnessError(f"unknown backend {requested!r}{did_you_mean(requested, list(BACKENDS))}; "
                               f"available: auto, {', '.join(BACKENDS)}")
        return requested, "requested"
    if preferred == "vllm":
        usable, why = _vllm_usable()
        if usable:
            return "vllm", "auto: GPU and vLLM present"
        return "transformers", f"auto: the registry prefers vllm, but {why}"
    return "transformers", "auto"
