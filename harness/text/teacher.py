"""The teacher side of ``factuality_imitation_gap``: the teacher answers first, as a run of its own.

The student's task then carries each question's teacher answer (through the task metadata, so the task hash
covers them), and its run records which teacher, which teacher run and which similarity measure it used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError

TASK = "factuality_imitation_gap"


def attach_teacher(tasks: dict[str, Any], teacher: str | None, base_url: str | None, store: Any,
                   reload: Callable[[dict[str, Any]], Any], run_teacher: Callable[..., list[dict]],
                   ) -> dict[str, dict[str, Any]]:
    """Run the teacher, give the imitation-gap task its answers, and return that task's extra settings."""
    from harness.metrics.similarity import available_method

    if TASK not in tasks:
        raise HarnessError(f"--teacher only applies to {TASK}; add it to --task (it is in the factuality group)")
    if teacher is None:
        raise HarnessError(f"{TASK} compares a student with its teacher: pass --teacher MODEL (a registry name, "
                           "hub id or folder; with --teacher-base-url URL for an OpenAI-compatible server)")
    backend = {"backend": "openai", "base_url": base_url} if base_url else {}
    (result,) = run_teacher(model=teacher, **backend)
    answers = teacher_answers(result["run_id"], store)
    method = available_method()
    tasks[TASK] = reload({"teacher_answers": answers, "style_similarity": method})
    return {TASK: {"teacher": teacher, "teacher_base_url": base_url, "teacher_run": result["run_id"],
                   "style_similarity": method}}


def teacher_answers(run_id: str, store: Any) -> dict[str, str]:
    """The teacher's answer to each question of its run."""
    return {row["doc"]["question"]: _text(row["prediction"]) for row in store.sample_rows(run_id)}


def _text(prediction: Any) -> str:
    return prediction if isinstance(prediction, str) else json.dumps(prediction)
