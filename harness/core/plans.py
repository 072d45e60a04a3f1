"""The plan of a run, made before any weights load: the model and its fingerprint, the backend and why, and
for each leaf task its settings, hashes, action (new, resume RUN, reuse RUN) and how many of its requests are
already answered. ``harness run --dry-run`` prints it; ``harness.core.execute`` carries it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.request import RunRequest


@dataclass
class TaskPlan:
    """One leaf task of a plan."""

    name: str
    task_hash: str | None
    settings: dict[str, Any]
    settings_hash: str | None
    action: str = "new"  # new | resume | reuse
    run_id: str | None = None  # the run resumed or reused
    requests: int | None = None  # requests the task sends (text tasks)
    answered: int = 0  # of those, answered by the cache or the resumed run
    note: str = ""

    @property
    def needs_model(self) -> bool:
        """Whether carrying this task out calls the model."""
        if self.action == "reuse":
            return False
        return self.requests is None or self.answered < self.requests

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.name, "action": self.action, "run_id": self.run_id, "requests": self.requests,
                "answered": self.answered, "model_load": self.needs_model, "task_hash": self.task_hash,
                "settings_hash": self.settings_hash, "request_hash": self.settings.get("request_hash"),
                "note": self.note, "settings": self.settings}


@dataclass
class Plan:
    """A planned ``harness run``: everything decided, nothing loaded. ``kind`` is ``text`` (lm-eval tasks) or
    ``native`` (harness-native task types); ``work`` holds what the runner needs (task objects with their
    requests built, prepared data, cached responses) and is not shown."""

    request: RunRequest
    kind: str
    model: str | None
    fingerprint: str | None
    backend: str
    reason: str
    engine: dict[str, Any]
    tasks: list[TaskPlan]
    teacher: Plan | None = None
    work: Any = field(default=None, repr=False)

    @property
    def needs_model(self) -> bool:
        return any(task.needs_model for task in self.tasks)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_fingerprint": self.fingerprint, "backend": self.backend,
                "backend_reason": self.reason, "engine": self.engine, "model_load": self.needs_model,
                "tasks": [task.as_dict() for task in self.tasks],
                "teacher": self.teacher.as_dict() if self.teacher else None}


