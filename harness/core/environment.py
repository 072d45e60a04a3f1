"""What a run records about where it ran (package versions, the harness's git commit), and its seeds."""

from __future__ import annotations

import platform
import random
import subprocess
from pathlib import Path


def versions(backend: str) -> dict[str, str]:
    """Versions of Python and the packages that shape outputs."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for dist in ("harness", "lm_eval", "transformers", "torch", "duckdb"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "not installed"
    if backend == "vllm":
        from harness.backends.vllm import vllm_version

        found["vllm"] = vllm_version() or "not installed"
    return found


def git_commit() -> str | None:
    """The commit of the harness's source tree, when it is a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def set_seeds(seeds: list[int | None]) -> None:
    """lm-eval's python, numpy and torch seeds (the fourth, few-shot sampling, goes to the tasks)."""
    import numpy as np
    import torch

    if seeds[0] is not None:
        random.seed(seeds[0])
    if seeds[1] is not None:
        np.random.seed(seeds[1])
    if seeds[2] is not None:
        torch.manual_seed(seeds[2])
