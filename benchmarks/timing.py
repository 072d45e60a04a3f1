"""Best-of-N wall-clock timing, shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(run: Callable[[], Any], repeats: int, before: Callable[[], None] | None = None) -> tuple[float, Any]:
    """The shortest of ``repeats`` timings of ``run`` (``before``, when given, runs untimed ahead of each) and the
    last result."""
    times, result = [], None
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result
