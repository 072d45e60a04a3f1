"""Load lm-eval task objects by name, cheaply when only the harness's own tasks are named."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import re
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UnknownNameError, did_you_mean
from harness.registry import plugin_task_dirs
from harness.resources import tasks_dir

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def task_folders(include_paths: list[str] | None = None) -> list[Path]:
    """The built-in task folder, plugin task folders, then the user's ``--include-path`` folders."""
    folders = [tasks_dir(), *plugin_task_dirs()]
    for raw in include_paths or []:
        path = Path(raw)
        if not path.is_dir():
            raise HarnessError(f"--include-path {raw} is not a folder of task YAML files")
        folders.append(path.resolve())
    return folders


def task_manager(include_paths: list[str] | None = None, *, with_builtins: bool = False,
                 metadata: dict | None = None):
    """An lm-eval ``TaskManager`` over our folders; lm-eval's ~14k built-in YAMLs only on request."""
    from lm_eval.tasks import TaskManager

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    return TaskManager(include_path=[str(p) for p in task_folders(include_paths)],
                       include_defaults=with_builtins, metadata=metadata)


def _check_yaml_syntax(include_paths: list[str] | None) -> None:
    """lm-eval's index skips YAML it cannot parse; name the broken file instead of 'unknown task'."""
    import yaml

    class _Lenient(yaml.SafeLoader):
        pass

    _Lenient.add_multi_constructor("!", lambda loader, suffix, node: None)
    for folder in include_paths or []:
        for path in sorted(Path(folder).rglob("*.yaml")):
            try:
                yaml.load(path.read_text(encoding="utf-8"), Loader=_Lenient)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" line {mark.line + 1}" if mark else ""
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise HarnessError(f"malformed task YAML {path}{where}: {problem}; fix the file or remove it "
                                   "from --include-path") from exc


def find_manager(names: list[str], include_paths: list[str] | None, metadata: dict | None = None):
    """The cheapest TaskManager that knows every name; unknown names raise with suggestions."""
    manager = task_manager(include_paths, metadata=metadata)
    missing = [n for n in names if n not in manager.all_tasks]
    if not missing:
        return manager
    _check_yaml_syntax(include_paths)
    close = {n: did_you_mean(n, manager.all_tasks) for n in missing}
    if all(close.values()):  # obvious misspellings of our own tasks: no need to index lm-eval's
        name = missing[0]
        raise UnknownNameError(f"unknown task {name!r}{close[name]}; 'harness tasks' lists them")
    return _with_builtins(names, manager, include_paths, metadata)


def _with_builtins(names: list[str], own: Any, include_paths: list[str] | None, metadata: dict | None):
    """A TaskManager that also knows lm-eval's built-in tasks among ``names``: over the few folders of lm-eval's
    that they need when that resolves them exactly as lm-eval's full index would, else over all of them."""
    from lm_eval.tasks import TaskManager

    from harness.text.builtin_index import agrees, builtin_index

    index = builtin_index()
    known = set(own.all_tasks) | set(index.entries)
    for name in names:
        if name not in known:
            raise UnknownNameError(f"unknown task {name!r}{did_you_mean(name, sorted(known))}; "
                                   "'harness tasks' lists them, --include-path adds your own YAML folder")
    reached = index.reached(names, set(own.all_tasks))
    folders = index.folders(reached)
    if folders is not None:
        narrow = TaskManager(include_path=[str(p) for p in folders + task_folders(include_paths)],
                             include_defaults=False, metadata=metadata)
        if agrees(narrow, index, reached):
            return narrow
    return task_manager(include_paths, with_builtins=True, metadata=metadata)


def load_tasks(names: list[str], **kwargs: Any) -> dict[str, Any]:
    """Leaf lm-eval tasks by name, with the overrides lm-eval's ``simple_evaluate`` applies."""
    return load_task_dict(names, **kwargs)[0]


def load_task_dict(names: list[str], *, include_paths: list[str] | None = None, num_fewshot: int | None = None,
                   gen_kwargs: dict | None = None, fewshot_seed: int | None = 1234,
                   metadata: dict | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Leaf lm-eval tasks by name (as ``load_tasks``) and the groups named or containing them, by name."""
    manager = find_manager(names, include_paths, metadata)
    try:
        loaded = manager.load(names)
    except HarnessError:
        raise
    except FileNotFoundError as exc:
        raise HarnessError(f"a data file of task(s) {', '.join(names)} is missing: {exc}") from exc
    except Exception as exc:  # lm-eval raises many types for a bad YAML
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise HarnessError(f"could not load task(s) {', '.join(names)}: {type(exc).__name__}: {first}") from exc
    tasks = dict(loaded["tasks"])
    for task in tasks.values():
        if task.get_config("output_type") == "generate_until" and gen_kwargs:
            task.set_config(key="generation_kwargs", value=dict(gen_kwargs), update=True)
        if num_fewshot is not None:
            if task.get_config("num_fewshot") != 0:
                task.set_config(key="num_fewshot", value=num_fewshot)
        elif task.get_config("num_fewshot") is None:
            task.set_config(key="num_fewshot", value=0)
        task.set_fewshot_seed(seed=fewshot_seed)
    return tasks, dict(loaded.get("groups") or {})


def _stable(value: Any) -> str:
    if callable(value):
        try:
            return inspect.getsource(value)
        except (OSError, TypeError):
            return getattr(value, "__qualname__", type(value).__name__)
    return _ADDRESS.sub("", str(value))


def task_hash(task: Any) -> str:
    """Hash of the task's configuration and every document it can show the model."""
    digest = hashlib.sha256()
    dumped = task.dump_config()
    if isinstance(dumped.get("metadata"), dict):  # where the YAML lies on this machine is not the task
        dumped["metadata"] = {k: v for k, v in dumped["metadata"].items() if k != "config_source"}
    config = json.dumps(dumped, sort_keys=True, default=_stable)
    digest.update(_ADDRESS.sub("", config).encode())
    docs = [("eval", task.eval_docs)]
    if task.has_training_docs() or task.has_validation_docs() or task.config.fewshot_split:
        try:
            docs.append(("fewshot", task.fewshot_docs()))
        except Exception:  # tasks without few-shot docs
            pass
    for label, collection in docs:
        digest.update(label.encode())
        for doc in collection or []:
            digest.update(json.dumps(doc, sort_keys=True, default=_stable).encode())
    return digest.hexdigest()


def config_metrics(config: dict[str, Any]) -> list[str]:
    """A task YAML's metric names: its ``metric_list``, else lm-eval's defaults for its output type."""
    from lm_eval.api.registry import DEFAULT_METRIC_REGISTRY

    listed = [m["metric"] for m in config.get("metric_list") or [] if isinstance(m, dict) and "metric" in m]
    return [str(m) for m in listed or DEFAULT_METRIC_REGISTRY.get(config.get("output_type", "generate_until"), [])]


def task_metrics(include_paths: list[str] | None = None) -> dict[str, dict[str, list[str]]]:
    """Each task's metric and filter names, read from its YAML (lm-eval's defaults when it lists no metrics)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    manager = task_manager(include_paths)
    found = {}
    for name in manager.all_tasks:
        entry = manager._index[name]
        path = getattr(entry, "yaml_path", None)
        if str(getattr(entry.kind, "name", entry.kind)).lower() != "task" or not path:
            continue
        try:
            config = load_yaml(path, resolve_func=False)
        except Exception:  # lm-eval's loader raises many types; such a task cannot run either
            continue
        filters = [f["name"] for f in config.get("filter_list") or [] if isinstance(f, dict) and "name" in f]
        found[name] = {"metrics": config_metrics(config), "filters": filters or ["none"]}
    from harness.registry.native_tasks import native_index, task_type

    for name, native in native_index(task_folders(include_paths))[0].items():
        found[name] = {"metrics": list(task_type(native.type).metrics), "filters": ["none"]}
    return found
