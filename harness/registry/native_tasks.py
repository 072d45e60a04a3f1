"""Harness-native tasks (preference, memorization, vision, video): YAML files with ``harness_task`` or
``harness_group`` keys, found in the same folders as the lm-eval tasks (lm-eval's index skips them).

Each task has a type, a plugin following ``NativeTaskType``: built in, or added by a third party through the
entry-point group ``harness.task_types``. A new modality registers a task type; the run layer does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessError
from harness.records import Outcome, SampleRow
from harness.registry.plugins import PluginRegistry

TASK_TYPES = PluginRegistry("task type", "harness.task_types", {
    "classification": "harness.vision.classification_task:CLASSIFICATION",
    "segmentation": "harness.vision.segmentation_task:SEGMENTATION",
    "fvd": "harness.video.fvd_task:FVD",
    "memorization": "harness.text.memorization:MEMORIZATION",
    "preference": "harness.text.preference:PREFERENCE",
})


class NativeTask(BaseModel):
    """One harness-native task, as its YAML declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(alias="harness_task")
    type: str
    dataset: str | None = None
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


class NativeTaskType(Protocol):
    """What a harness-native task type provides (see ``harness.vision.classification_task`` for one).

    ``prepare`` reads the task's data (``data``: the user's ``--data``; ``options``: the run's native options,
    ``harness.core.options.NATIVE_OPTIONS``, plus ``model`` and ``tiny``) and returns a dict with ``settings``
    (recorded with the run) and optional ``warnings``; bad data raises ``HarnessError`` here, before any run
    exists. A type may also define ``needs_model(options)`` (default: it needs one). ``load`` loads the model (a path, or None for tasks that score files) and ``evaluate`` runs it,
    handing scored rows to ``on_batch`` as they finish.
    """

    name: ClassVar[str]
    modality: ClassVar[str]
    metrics: ClassVar[tuple[str, ...] | list[str]]

    def prepare(self, task: NativeTask, data: str | None, limit: int | float | None,
                options: dict[str, Any]) -> dict[str, Any]: ...

    def validate(self, model_path: str | None, prepared: dict[str, Any]) -> None: ...

    def content_hash(self, task: NativeTask, prepared: dict[str, Any]) -> str: ...

    def load(self, model_path: str | None, prepared: dict[str, Any], *, device: str, dtype: Any) -> Any: ...

    def evaluate(self, loaded: Any, task: NativeTask, prepared: dict[str, Any], *, device: str, dtype: Any,
                 batch_size: int, on_batch: Callable[[list[Any]], None]) -> Outcome: ...

    def sample_row(self, row: Any) -> SampleRow: ...


def task_type(name: str) -> Any:
    """The task type registered as ``name``."""
    return TASK_TYPES.get(name)


def native_index(folders: list[Path]) -> tuple[dict[str, NativeTask], dict[str, list[str]]]:
    """Every harness-native task and group in ``folders``."""
    tasks: dict[str, NativeTask] = {}
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
                tasks[str(raw["harness_task"])] = _parse(path, raw)
    return tasks, groups


def _parse(path: Path, raw: dict[str, Any]) -> NativeTask:
    try:
        task = NativeTask.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise HarnessError(f"{path}: {where}: {error['msg']}") from exc
    if task.type not in TASK_TYPES:
        raise HarnessError(f"{path}: unknown task type {task.type!r}; known: {', '.join(TASK_TYPES.names())}")
    return task


def expand(names: list[str] | tuple[str, ...], folders: list[Path]) -> list[NativeTask] | None:
    """The native tasks the names mean (groups expanded), None when no name is one; mixing is refused."""
    tasks, groups = native_index(folders)
    native = [n for n in names if n in tasks or n in groups]
    if not native:
        return None
    if len(native) != len(names):
        other = [n for n in names if n not in native]
        raise HarnessError(f"{', '.join(native)} and {', '.join(other)} need different kinds of model; "
                           "run them in separate commands")
    found = [tasks[m] for n in names for m in (groups.get(n) or [n])]
    return list({t.name: t for t in found}.values())
