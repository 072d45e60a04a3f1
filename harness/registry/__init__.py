"""Model and task registry: the built-in catalog plus entry-point plugins.

Third parties register models under the entry-point group ``harness.models``
(an object that is a ``ModelSpec``, a list of them, or a callable returning
either) and task folders under ``harness.tasks`` (a path to a folder of lm-eval
task YAMLs, or a callable returning one).
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from harness.errors import HarnessError, UnknownNameError, did_you_mean
from harness.registry.specs import ModelSpec, TinyConfig

__all__ = ["ModelSpec", "TinyConfig", "all_models", "get_model", "find_models", "plugin_task_dirs"]


def _load_plugin(ep) -> object:
    try:
        obj = ep.load()
        return obj() if callable(obj) and not isinstance(obj, type) else obj
    except Exception as exc:  # a broken plugin must not break the harness
        raise HarnessError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc


@lru_cache(maxsize=1)
def all_models() -> dict[str, ModelSpec]:
    """Every registered model by name: built-ins first, then plugins (which may override)."""
    from harness.registry.catalog import builtin_models

    models = {spec.name: spec for spec in builtin_models()}
    for ep in entry_points(group="harness.models"):
        loaded = _load_plugin(ep)
        for spec in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
            if not isinstance(spec, ModelSpec):
                raise HarnessError(f"plugin {ep.name!r} must provide ModelSpec objects, got {type(spec).__name__}")
            models[spec.name] = spec
    return models


def get_model(name: str) -> ModelSpec:
    """The registered model called ``name``; raises with suggestions when unknown."""
    models = all_models()
    if name in models:
        return models[name]
    raise UnknownNameError(f"unknown model {name!r}{did_you_mean(name, sorted(models))}; "
                           "run 'harness models' to list them, or pass a hub id or a checkpoint folder")


def find_models(pattern: str | None = None, modality: str | None = None) -> list[ModelSpec]:
    """Registered models whose name matches a glob or substring ``pattern`` and ``modality``."""
    found = []
    for spec in all_models().values():
        if modality and spec.modality != modality:
            continue
        if pattern and not (fnmatch.fnmatch(spec.name, pattern) or pattern in spec.name):
            continue
        found.append(spec)
    return found


def plugin_task_dirs() -> list[Path]:
    """Task folders contributed by plugins through the ``harness.tasks`` entry-point group."""
    dirs = []
    for ep in entry_points(group="harness.tasks"):
        path = Path(str(_load_plugin(ep)))
        if not path.is_dir():
            raise HarnessError(f"plugin {ep.name!r} names task folder {path}, which does not exist")
        dirs.append(path)
    return dirs
