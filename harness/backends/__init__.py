"""Backends execute requests; the runner picks one by name through this table."""

from __future__ import annotations

import importlib
import importlib.util

from harness.backends.base import Backend, BatchResult
from harness.errors import HarnessError, did_you_mean

__all__ = ["Backend", "BatchResult", "BACKENDS", "choose_backend", "load_backend_class"]

BACKENDS: dict[str, str] = {"transformers": "harness.backends.hf:TransformersBackend"}
ALIASES = {"hf": "transformers"}


def load_backend_class(name: str) -> type:
    """Import the backend class registered as ``name``."""
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def choose_backend(requested: str, preferred: str | None) -> tuple[str, str]:
    """Resolve ``--backend`` to an available backend; returns (name, reason printed to the user)."""
    requested = ALIASES.get(requested, requested)
    if requested != "auto":
        if requested not in BACKENDS:
            raise HarnessError(f"unknown backend {requested!r}{did_you_mean(requested, list(BACKENDS))}; "
                               f"available: auto, {', '.join(BACKENDS)}")
        return requested, "requested"
    if preferred and preferred in BACKENDS and preferred != "transformers":
        return preferred, f"auto: the registry prefers {preferred}"
    if preferred and preferred != "transformers":
        return "transformers", f"auto: the registry prefers {preferred}, which this installation lacks"
    return "transformers", "auto"
