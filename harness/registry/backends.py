"""The backend registry: built-in backends and those third parties add through the ``harness.backends``
entry-point group (a class following ``harness.backends.base.Backend``), and how ``--backend auto`` chooses."""

from __future__ import annotations

import importlib.util

from harness.errors import HarnessError, did_you_mean
from harness.registry.plugins import PluginRegistry

BACKENDS = PluginRegistry("backend", "harness.backends", {
    "transformers": "harness.backends.hf:TransformersBackend",
    "vllm": "harness.backends.vllm:VLLMBackend",
    "openai": "harness.backends.openai:OpenAIBackend",
})
ALIASES = {"hf": "transformers"}


def backend_class(name: str) -> type:
    """The class registered as backend ``name``."""
    return BACKENDS.get(ALIASES.get(name, name))


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
            raise HarnessError(f"unknown backend {requested!r}{did_you_mean(requested, BACKENDS.names())}; "
                               f"available: auto, {', '.join(BACKENDS.names())}")
        return requested, "requested"
    if preferred == "vllm":
        usable, why = _vllm_usable()
        if usable:
            return "vllm", "auto: GPU and vLLM present"
        return "transformers", f"auto: the registry prefers vllm, but {why}"
    return "transformers", "auto"
