"""Shared fixtures: an offline, sandboxed environment and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Nothing reaches for the network or writes to the home folder; subprocesses inherit this."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="harness-tests-"))
    os.environ.update({
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(root / "hf"), "HARNESS_CACHE": str(root / "cache"),
        "HARNESS_DB": str(root / "default.duckdb"), "NO_COLOR": "1", "TOKENIZERS_PARALLELISM": "false",
    })


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``harness ARGS`` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=REPO)


def cli_json(*args: str, **kwargs) -> object:
    """Run the CLI, require success, and parse stdout as JSON."""
    proc = run_cli(*args, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def tiny_pythia_path() -> Path:
    from harness.models.tiny import ensure_tiny
    from harness.registry import get_model

    return ensure_tiny(get_model("tiny-pythia"))
