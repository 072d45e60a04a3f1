"""Reading a user's JSONL file (``--data``) one record at a time, each problem named by its line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def read_records(path: Path, what: str, check: Callable[[Any], dict[str, Any] | None], expected: str) -> list[dict]:
    """Every non-empty line of ``path`` as a record: ``check`` turns a parsed value into one, or returns None
    when the value is not one (``expected`` says what a line should hold); ``what`` names the records."""
    if not path.is_file():
        raise HarnessError(f"--data {path}: no such file; give a JSONL file of {what}, one per line")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{path} line {number}: not JSON ({exc.msg}); write one {expected} per line") from exc
        record = check(value)
        if record is None:
            raise HarnessError(f"{path} line {number}: expected {expected}")
        records.append(record)
    if not records:
        raise HarnessError(f"{path} holds no {what}")
    return records


def task_data(dataset: str | None, data: str | None, limit: int | float | None,
              read: Callable[[Path], list[dict]]) -> tuple[Path, list[dict]]:
    """A task's records: ``--data``'s file, else its own (``dataset``, under the tasks folder), cut to ``limit``
    (a count, or a fraction below 1)."""
    from harness.resources import tasks_dir

    path = Path(data) if data is not None else tasks_dir() / str(dataset)
    records = read(path)
    if limit is not None:
        records = records[:int(limit) if limit >= 1 else max(1, int(len(records) * limit))]
    return path, records


def records_hash(task: Any, records: list[dict]) -> str:
    """Hash of a harness-native task's definition and every record it reads."""
    import hashlib

    digest = hashlib.sha256(task.model_dump_json().encode())
    for record in records:
        digest.update(json.dumps(record, sort_keys=True).encode())
    return digest.hexdigest()
