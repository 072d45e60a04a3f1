"""What ``harness tasks`` lists of each task: its kind, metrics, item count and a one-line description, read from
the task index, the YAML files and the local data files, without building the tasks.

Item counts come from the harness's own tasks (their loaders read files shipped with it), from local ``json``
and ``csv`` data files a YAML names, and from a harness-native task's ``.jsonl`` dataset; a task whose documents
would have to be downloaded or generated has none (``None``).
"""

from __future__ import annotations

import csv
import fnmatch
import re
from pathlib import Path
from typing import Any

from harness.resources import tasks_dir
from harness.text.tasks import config_metrics, task_folders, task_manager

_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)")


def yaml_description(path: str | Path | None) -> str:
    """The first sentence of the comment block a YAML file opens with ("" without one).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    ...     _ = f.write("# Dates, as multiple choice. More detail.\\n# Even more.\\ntask: x\\n")
    >>> yaml_description(f.name); os.unlink(f.name)
    'Dates, as multiple choice.'
    """
    if not path:
        return ""
    lines = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("#"):
                    break
                lines.append(line.lstrip("#").strip())
    except OSError:
        return ""
    text = " ".join(line for line in lines if line)
    match = _SENTENCE.match(text)
    return match.group(1) if match else text


def count_records(path: Path) -> int | None:
    """Records in a local ``.jsonl`` (non-empty lines) or ``.csv`` file (rows after the header); None otherwise."""
    try:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as handle:
                return sum(1 for line in handle if line.strip())
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except OSError:
        return None
    return None


def _eval_split(config: dict[str, Any]) -> str | None:
    """The split lm-eval evaluates: test, else validation."""
    return config.get("test_split") or config.get("validation_split")


def _data_file(config: dict[str, Any], split: str | None) -> Path | None:
    """The local file a ``dataset_path: json|csv`` task reads for ``split``, when it names exactly one."""
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if config.get("dataset_path") not in ("json", "csv") or not files:
        return None
    chosen = files.get(split) if isinstance(files, dict) else files
    chosen = chosen[0] if isinstance(chosen, list) and len(chosen) == 1 else chosen
    return Path(chosen) if isinstance(chosen, str) else None


def _builtin_items(path: Path, split: str | None) -> int | None:
    """Documents of the eval split of one of the harness's own tasks, from its loader (local files only)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    try:
        config = load_yaml(path, resolve_func=True)
        loaded = config["custom_dataset"](**(config.get("metadata") or {}), **(config.get("dataset_kwargs") or {}))
        return len(loaded[split])
    except Exception:  # a loader that needs a file the user supplies (public formats), or any other failure
        return None


def lm_eval_items(config: dict[str, Any], path: Path | None) -> int | None:
    """Documents an lm-eval task evaluates, when its files are local; None when unknown without downloading."""
    split = _eval_split(config)
    if config.get("custom_dataset"):
        builtin = path is not None and path.resolve().is_relative_to(tasks_dir().resolve())
        return _builtin_items(path, split) if builtin else None
    data = _data_file(config, split)
    return count_records(data) if data is not None else None


def _lm_eval_rows(manager: Any) -> list[dict[str, Any]]:
    """Every entry of an lm-eval task index: tasks with their output type, metrics and items; groups; tags."""
    rows = []
    for name in manager.all_tasks:
        entry = manager._index[name]
        kind = str(getattr(entry.kind, "name", entry.kind)).lower()
        path = getattr(entry, "yaml_path", None)
        config = getattr(entry, "cfg", None) or {}
        row = {"name": name, "kind": kind, "path": str(path or ""), "runner": "lm-eval", "type": None,
               "metrics": [], "items": None, "description": yaml_description(path), "members": []}
        if kind == "task":
            row |= {"type": config.get("output_type", "generate_until"), "metrics": config_metrics(config),
                    "_config": config}
        elif kind == "group":
            members = config.get("task") or []
            row["members"] = [m for m in (members if isinstance(members, list) else [members]) if isinstance(m, str)]
            row["metrics"] = [str(m["metric"]) for m in config.get("aggregate_metric_list") or []
                              if isinstance(m, dict) and "metric" in m]
        rows.append(row)
    return rows


def _native_rows(folders: list[Path]) -> list[dict[str, Any]]:
    """Harness-native tasks (their type's metrics, their ``.jsonl`` dataset's records) and groups."""
    from harness.registry.native_tasks import native_index, task_type

    native, groups = native_index(folders)
    rows = []
    for name, task in native.items():
        data = tasks_dir() / task.dataset if task.dataset and task.dataset.endswith(".jsonl") else None
        rows.append({"name": name, "kind": "task", "path": "", "runner": "harness", "type": task.type,
                     "metrics": list(task_type(task.type).metrics), "items": None, "description": task.description,
                     "members": [], "_data": data})
    rows += [{"name": name, "kind": "group", "path": "", "runner": "harness", "type": None, "metrics": [],
              "items": None, "description": "", "members": members} for name, members in groups.items()]
    return rows


def _fill_items(rows: list[dict[str, Any]]) -> None:
    """Count each listed task's items; a group's are its members' sum when every member's is known."""
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        if "_config" in row:
            row["items"] = lm_eval_items(row["_config"], Path(row["path"]) if row["path"] else None)
        elif row.get("_data") is not None:
            row["items"] = count_records(row["_data"])
    for row in rows:
        counts = [by_name[m]["items"] if m in by_name else None for m in row["members"]]
        if counts and None not in counts:
            row["items"] = sum(counts)


def list_tasks(pattern: str | None = None, include_paths: list[str] | None = None,
               with_builtins: bool = False) -> list[dict[str, Any]]:
    """Tasks, groups and tags whose name matches ``pattern`` (a glob or a substring), by name: ``kind`` (task,
    group or tag), ``runner`` (lm-eval or harness), ``type`` (lm-eval's output type or the native task type),
    ``metrics``, ``items`` (None when unknown without downloading), ``description``, ``members`` and ``path``."""
    folders = task_folders(include_paths)
    rows = _lm_eval_rows(task_manager(include_paths, with_builtins=with_builtins)) + _native_rows(folders)
    shown = [row for row in rows if not pattern or fnmatch.fnmatch(row["name"], pattern) or pattern in row["name"]]
    names = {row["name"] for row in shown}
    members = {m for row in shown for m in row["members"]} - names  # counted for their groups' items
    _fill_items(shown + [row for row in rows if row["name"] in members])
    return sorted(({k: v for k, v in row.items() if not k.startswith("_")} for row in shown), key=lambda r: r["name"])
