"""Where the built-in task and leaderboard definitions live.

In an installed wheel they are package data (``harness/_builtin/...``); in a
source checkout they are the top-level ``tasks/`` and ``leaderboards/`` folders.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def _builtin(folder: str) -> Path:
    packaged = resources.files("harness").joinpath("_builtin", folder)
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / folder


def tasks_dir() -> Path:
    """The folder holding the built-in lm-eval task YAMLs and their data."""
    return _builtin("tasks")


def leaderboards_dir() -> Path:
    """The folder holding the built-in leaderboard definitions."""
    return _builtin("leaderboards")


def cache_dir() -> Path:
    """The harness cache (tiny models, content hashes): ``HARNESS_CACHE`` or ``~/.cache/harness``."""
    root = os.environ.get("HARNESS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "harness"
    )
    return Path(root)


def default_db() -> Path:
    """The default store: ``HARNESS_DB`` or ``results/harness.duckdb`` under the working directory."""
    return Path(os.environ.get("HARNESS_DB") or os.path.join("results", "harness.duckdb"))
