"""custom_dataset loaders for the public finance datasets, read from a local file.

The file comes from task metadata (``<name>_data_path``, e.g. ``finqa_data_path``, then
``data_path``) or from the environment variable ``HARNESS_FINANCE_DATA_<NAME>`` (e.g.
``HARNESS_FINANCE_DATA_PHRASEBANK``). The ``test`` split is the public file; the ``train``
split (few-shot examples) is this project's own train split of the matching finance task.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import datasets

from harness.text import finance_formats

HERE = Path(__file__).resolve().parent
ENV_PREFIX = "HARNESS_FINANCE_DATA_"


def _module_from_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


task_utils = _module_from_file("harness_finance_task_utils", HERE.parent / "utils.py")


def resolve_data_path(name: str, kwargs: dict[str, Any]) -> Path:
    """The data file for dataset `name` from metadata kwargs or the environment."""
    env = ENV_PREFIX + name.upper()
    raw = kwargs.get(f"{name}_data_path") or kwargs.get("data_path") or os.environ.get(env)
    if not raw:
        raise FileNotFoundError(
            f"finance_{name}: no data file given. Pass it as task metadata "
            f"(--metadata '{{\"data_path\": \"/path/to/file\"}}' or TaskManager(metadata={{'data_path': ...}}); "
            f"'{name}_data_path' also works) or set the environment variable {env}."
        )
    path = Path(str(raw)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"finance_{name}: data file {path} does not exist (set via metadata or {env})")
    return path


def _dataset(name: str, reader: Callable[[Path], list[dict]], prefix: str,
             features: datasets.Features, kwargs: dict[str, Any]) -> datasets.DatasetDict:
    docs = reader(resolve_data_path(name, kwargs))
    train = task_utils.read_jsonl(HERE.parent / f"{prefix}_train.jsonl")
    return datasets.DatasetDict({
        "test": task_utils.to_dataset(docs, features),
        "train": task_utils.to_dataset(train, features),
    })


def load_phrasebank(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_phrasebank."""
    return _dataset("phrasebank", finance_formats.read_phrasebank, "sentiment", task_utils.SENTIMENT_FEATURES, kwargs)


def load_fiqa_sentiment(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_fiqa_sentiment."""
    return _dataset("fiqa", finance_formats.read_fiqa_sentiment, "sentiment", task_utils.SENTIMENT_FEATURES, kwargs)


def load_finqa(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_finqa."""
    return _dataset("finqa", finance_formats.read_finqa, "numeric", task_utils.NUMERIC_FEATURES, kwargs)


def load_convfinqa(**kwargs: Any) -> datasets.DatasetDict:
    """custom_dataset for finance_convfinqa."""
    return _dataset("convfinqa", finance_formats.read_convfinqa, "numeric", task_utils.NUMERIC_FEATURES, kwargs)
