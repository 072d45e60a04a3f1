"""The teacher side of ``factuality_imitation_gap``: the teacher answers first, as a run of its own planned and
executed like any other (a finished one with the same settings is reused).

The student's task then carries each question's teacher answer (through the task metadata, so the task hash
covers them), and its run records which teacher, which teacher run and which similarity measure it used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError
from harness.redact import redact
from harness.core.request import RunRequest
from harness.store import Store

TASK = "factuality_imitation_gap"
# The student's options the teacher's run shares; the rest take their defaults (the teacher's own chat template).
_SHARED = ("batch_size", "limit", "device", "dtype", "seed", "gen_kwargs", "quiet")


def teacher_request(request: RunRequest, task_names: list[str]) -> RunRequest | None:
    """The teacher's run request, None when the run has no teacher; a teacher without the task, or the task
    without a teacher, is refused."""
    if request.teacher is False:
        return None
    if request.teacher is None and request.teacher_base_url is None and TASK not in task_names:
        return None
    if TASK not in task_names:
        raise HarnessError(f"--teacher only applies to {TASK}; add it to --task (it is in the factuality group)")
    if request.teacher is None:
        raise HarnessError(f"{TASK} compares a student with its teacher: pass --teacher MODEL (a registry name, "
                           "hub id or folder; with --teacher-base-url URL for an OpenAI-compatible server)")
    server = {"backend": "openai", "base_url": request.teacher_base_url} if request.teacher_base_url else {}
    return RunRequest.build(request.teacher, TASK, db=request.db, log=request.log, teacher=False, skip_finished=True,
                            **{key: request.raw[key] for key in _SHARED}, **server)


def attach_teacher(request: RunRequest, tasks: dict[str, Any], teacher: Any, store: Store,
                   reload: Callable[[dict[str, Any]], Any]) -> dict[str, dict[str, Any]]:
    """The student task's extra settings. When the teacher's run (``teacher``, its plan) is already finished,
    the student's task is reloaded (``reload(metadata)``) with its answers; otherwise it waits for the teacher."""
    from harness.metrics.similarity import available_method

    (done,) = teacher.tasks
    if done.action != "reuse":
        return {TASK: {"teacher": request.teacher, "teacher_base_url": redact(request.teacher_base_url)}}
    method = available_method()
    extra = {"teacher_answers": teacher_answers(done.run_id, store), "style_similarity": method}
    tasks[TASK] = reload({**(request.metadata or {}), **extra})
    return {TASK: {"teacher": request.teacher, "teacher_base_url": redact(request.teacher_base_url),
                   "teacher_run": done.run_id, "style_similarity": method}}


def teacher_answers(run_id: str, store: Store) -> dict[str, str]:
    """The teacher's answer to each question of its run."""
    return {row["doc"]["question"]: _text(row["prediction"]) for row in store.sample_rows(run_id)}


def _text(prediction: Any) -> str:
    return prediction if isinstance(prediction, str) else json.dumps(prediction)
