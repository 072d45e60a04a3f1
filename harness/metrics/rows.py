"""Metric rows as runs store them: one aggregate of per-sample values with its standard error."""

from __future__ import annotations

import math
from typing import Any


def mean_row(task: str, metric: str, values: list[float], higher_is_better: bool | None = True) -> dict[str, Any]:
    """The mean of per-sample ``values`` with the standard error of the mean (sample standard deviation)."""
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    stderr = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else None
    return {"task": task, "metric": metric, "filter": "none", "value": mean, "stderr": stderr, "n": n,
            "higher_is_better": higher_is_better}
