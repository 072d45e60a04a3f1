"""lm-eval's built-in task names, remembered between runs.

lm-eval finds a task by indexing every YAML of its task folder (about 14,000, several seconds) on each run. The
names, their files and what each group and tag reaches are cached here once per state of that folder (its files'
paths, sizes and modification times), so a run that names built-in tasks indexes only the top-level folders they
need. The narrow index is checked against the cache, name by name, before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.resources import cache_dir

_IGNORED = {"__pycache__", ".ipynb_checkpoints"}  # as lm-eval's index skips them


@dataclass(frozen=True)
class BuiltinEntry:
    """One name in lm-eval's index: its kind, its YAML (relative to the task folder; none for a tag) and the
    names it reaches (a group's tasks, a tag's members)."""

    kind: str
    path: str | None
    reaches: tuple[str, ...]


@dataclass(frozen=True)
class BuiltinIndex:
    """lm-eval's built-in task index, as names only."""

    root: Path
    entries: dict[str, BuiltinEntry]

    def reached(self, names: list[str], own: set[str]) -> list[str]:
        """``names`` and every built-in name their groups and tags reach; names in ``own`` (the harness's and the
        user's folders, which take precedence) are not followed."""
        seen: list[str] = []
        todo = [n for n in names if n not in own]
        while todo:
            name = todo.pop()
            if name in seen or name in own or name not in self.entries:
                continue
            seen.append(name)
            todo.extend(self.entries[name].reaches)
        return sorted(seen)

    def folders(self, names: list[str]) -> list[Path] | None:
        """The top-level folders of lm-eval's task folder that hold ``names``' files, in lm-eval's order (a tag has
        no file: its members are among ``names``); None when a file lies directly in the task folder."""
        tops = set()
        for name in names:
            entry = self.entries[name]
            if entry.path is None:
                continue
            parts = Path(entry.path).parts
            if len(parts) < 2:
                return None
            tops.add(parts[0])
        return [self.root / top for top in sorted(tops)]


def _state(root: Path) -> str:
    """A digest of the task folder's YAML files: paths, sizes and modification times."""
    digest = hashlib.sha256(str(root).encode())
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _IGNORED)
        for name in sorted(files):
            if name.endswith(".yaml"):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _strings(value: Any) -> list[str]:
    """Every string in a group's task list (names, and names inside per-task settings)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _build(root: Path) -> dict[str, BuiltinEntry]:
    """lm-eval's own index of ``root``, reduced to names."""
    from lm_eval.tasks._index import Kind, TaskIndex

    index = TaskIndex.build([root])
    entries = {}
    for name, entry in index.items():
        if entry.kind == Kind.TAG:
            reaches = sorted(entry.tags)
        elif entry.kind == Kind.GROUP:
            reaches = sorted({s for s in _strings((entry.cfg or {}).get("task")) if s in index and s != name})
        else:
            reaches = []
        path = None if entry.yaml_path is None else Path(entry.yaml_path).relative_to(root).as_posix()
        entries[name] = BuiltinEntry(entry.kind.name.lower(), path, tuple(reaches))
    return entries


def builtin_index() -> BuiltinIndex:
    """lm-eval's built-in index, from the cache when the task folder has not changed since it was written."""
    import lm_eval
    import lm_eval.tasks

    root = Path(lm_eval.tasks.__file__).resolve().parent
    version = getattr(lm_eval, "__version__", "unknown")
    cached = cache_dir() / "lm_eval_index" / f"{version}-{_state(root)}.json"
    try:
        raw = json.loads(cached.read_text(encoding="utf-8"))
        return BuiltinIndex(root, {name: BuiltinEntry(kind, path, tuple(reaches))
                                   for name, (kind, path, reaches) in raw.items()})
    except (OSError, ValueError, TypeError, AttributeError):  # none yet, or unreadable: index again
        pass
    entries = _build(root)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_name(f".{cached.name}.{os.getpid()}.partial")
        staging.write_text(json.dumps({n: [e.kind, e.path, list(e.reaches)] for n, e in entries.items()}),
                           encoding="utf-8")
        os.replace(staging, cached)
    except OSError:  # a read-only cache: index again next time
        pass
    return BuiltinIndex(root, entries)


def agrees(manager: Any, index: BuiltinIndex, names: list[str]) -> bool:
    """Whether ``manager`` (a narrow TaskManager) resolves every one of ``names`` to the file, kind and tag members
    lm-eval's full index gives it."""
    found = manager.task_index
    for name in names:
        entry, expected = found.get(name), index.entries[name]
        if entry is None or entry.kind.name.lower() != expected.kind:
            return False
        if expected.path is None:
            if sorted(entry.tags) != list(expected.reaches):
                return False
        elif entry.yaml_path is None or Path(entry.yaml_path).resolve() != (index.root / expected.path).resolve():
            return False
    return True
