"""harness: fast, faithful evaluation of the landmark models of 2023, stored in DuckDB.

The public API (``harness.run``, ``harness.runs``, ...) is re-exported lazily so
that ``import harness`` stays fast.
"""

from __future__ import annotations

_API = ("run", "plan", "sweep", "plan_sweep", "runs", "show", "delete", "export", "models", "tasks", "doctor", "tag",
        "untag", "tags", "leaderboards", "leaderboard", "compare", "gate", "export_baseline")
__all__ = [*_API, "HarnessError", "__version__"]

from harness.errors import HarnessError  # noqa: E402
from harness.version import __version__  # noqa: E402


def __getattr__(name: str):
    if name in _API:
        from harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
