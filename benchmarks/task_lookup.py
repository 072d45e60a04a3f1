"""Finding lm-eval's built-in tasks: lm-eval's full index against the harness's cached one.

lm-eval's command line (and ``simple_evaluate`` without a task manager) indexes every YAML of lm-eval's task folder
on each run before it can load one task. The harness caches the names once per state of that folder
(``harness/text/builtin_index.py``) and indexes only the top-level folders the named tasks need. For each name
this script times lm-eval's ``TaskManager()`` and the harness's ``find_manager`` (cache warm; the one-off cost of
writing the cache is printed first), and checks that every name the task reaches resolves to the same file, kind
and tag members in both. Task data is not loaded (it would need the hub).

    python benchmarks/task_lookup.py
    python benchmarks/task_lookup.py --names mmlu,hellaswag --repeats 3
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from timing import best_of  # noqa: E402  (beside this script)

NAMES = ["hellaswag", "gsm8k", "ai2_arc", "mmlu", "leaderboard", "openllm"]


def same_resolution(narrow: Any, full: Any, names: Sequence[str]) -> bool:
    """Whether both managers resolve every name to the same file, kind, tag members and configuration."""
    def seen(manager: Any, name: str) -> tuple:
        entry = manager.task_index[name]
        path = None if entry.yaml_path is None else Path(entry.yaml_path).resolve()
        return entry.kind, path, sorted(entry.tags), entry.cfg

    return all(name in narrow.task_index and seen(narrow, name) == seen(full, name) for name in names)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--names", default=",".join(NAMES), help="comma-separated built-in task, group or tag names")
    parser.add_argument("--repeats", type=int, default=1, help="timings per name and program; the best is kept")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    os.environ["HARNESS_CACHE"] = tempfile.mkdtemp(prefix="task-lookup-")  # a cold cache, written once below
    logging.disable(logging.WARNING)
    from lm_eval.tasks import TaskManager

    from harness.text.builtin_index import builtin_index
    from harness.text.tasks import find_manager, task_manager

    started = time.perf_counter()
    index = builtin_index()
    print(f"writing the harness's cache once: {time.perf_counter() - started:.2f} s "
          f"({len(index.entries)} names)")
    own = set(task_manager(None).all_tasks)
    rows = []
    for name in args.names.split(","):
        lm_s, full = best_of(TaskManager, args.repeats)
        ours_s, narrow = best_of(lambda: find_manager([name], None), args.repeats)
        reached = index.reached([name], own)
        rows.append((name, len(reached), lm_s, ours_s, lm_s / ours_s, same_resolution(narrow, full, reached)))
    print(f"\n{'name':<14}{'reached':>8}{'lm-eval s':>11}{'harness s':>11}{'x':>8}  same resolution")
    for name, reached, lm_s, ours_s, ratio, same in rows:
        print(f"{name:<14}{reached:>8}{lm_s:>11.2f}{ours_s:>11.2f}{ratio:>7.1f}x  {'yes' if same else 'NO'}")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
