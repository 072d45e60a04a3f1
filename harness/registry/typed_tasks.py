"""Harness-native tasks (vision, video): YAML files with ``harness_task`` or ``harness_group`` keys, found in
the same folders as the lm-eval tasks (lm-eval's index skips them).

Each task has a type; ``TASK_TYPES`` maps a type to the module that evaluates it (``module:attr``, imported
lazily), so a new modality registers a runner here rather than adding a branch to ``harness.api.run``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessError

TASK_TYPES: dict[str, str] = {
    "classification": "harness.vision.classification_task:CLASSIFICATION",
    "segmentation": "harness.vision.segmentation_task:SEGMENTATION",
    "fvd": "harness.video.fvd_task:FVD",
    "memorization": "harness.text.memorization:MEMORIZATION",
    "preference": "harness.text.preference:PREFERENCE",
}


@dataclass
class Outcome:
    """What a task type's ``evaluate`` returns: per-sample rows, metric rows, and seconds spent evaluating."""

    samples: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


class TypedTask(BaseModel):
    """One harness-native task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(alias="harness_task")
    type: str
    dataset: str | None = None
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


def task_type(name: str) -> Any:
    """The runner of a task type: ``name``, ``modality``, ``metrics`` and ``prepare(task, data, limit, options)``,
    ``validate(model_path, prepared)``, ``content_hash(task, prepared)``, ``evaluate(...)``, ``sample_row(row)``
    (see ``harness.vision.classification_task``)."""
    module, _, attr = TASK_TYPES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def typed_index(folders: list[Path]) -> tuple[dict[str, TypedTask], dict[str, list[str]]]:
    """Every harness-native task and group in ``folders``."""
    tasks: dict[str, TypedTask] = {}
    groups: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if "harness_task" not in text and "harness_group" not in text:
                continue
            raw = yaml.safe_load(text)
            if not isinstance(raw, dict):
                continue
            if "harness_group" in raw:
                groups[str(raw["harness_group"])] = [str(t) for t in raw.get("tasks") or []]
            elif "harness_task" in raw:
                try:
                    task = TypedTask.model_validate(raw)
                except ValidationError as exc:
                    error = exc.errors()[0]
                    where = ".".join(str(p) for p in error["loc"])
                    raise HarnessError(f"{path}: {where}: {error['msg']}") from exc
                if task.type not in TASK_TYPES:
                    raise HarnessError(f"{path}: unknown task type {task.type!r}; known: {', '.join(TASK_TYPES)}")
                tasks[task.name] = task
    return tasks, groups


def expand(names: list[str], folders: list[Path]) -> list[TypedTask] | None:
    """The typed tasks the names mean (groups expanded), None when no name is one; mixing is refused."""
    tasks, groups = typed_index(folders)
    typed = [n for n in names if n in tasks or n in groups]
    if not typed:
        return None
    if len(typed) != len(names):
        other = [n for n in names if n not in typed]
        raise HarnessError(f"{', '.join(typed)} and {', '.join(other)} need different kinds of model; "
                           "run them in separate commands")
    found = [tasks[m] for n in names for m in (groups.get(n) or [n])]
    return list({t.name: t for t in found}.values())
