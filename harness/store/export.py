"""Export a run's samples as JSON Lines, CSV or Parquet (every row carries the schema version)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.outputs import output_file
from harness.store import SCHEMA_VERSION, Store

_BY_TYPE = {
    "multiple_choice": ["choices", "target", "prediction", "loglikelihoods"],
    "generate_until": ["target", "prediction", "raw_output"],
    "loglikelihood_rolling": ["loglikelihood", "token_count"],
    "loglikelihood": ["target", "prediction", "loglikelihoods"],
    "classification": ["target", "prediction", "doc"],  # doc: the image id and its top-5 classes
    "segmentation": ["target", "prediction", "doc"],  # prediction: the chosen mask's RLE; doc: prompt and IoUs
}


def export_rows(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The export rows of a run: common columns, the output type's columns, then ``metrics``."""
    rows = []
    for sample in store.sample_rows(run_id):
        row = {"schema_version": SCHEMA_VERSION, "run_id": sample["run_id"], "task": sample["task"],
               "doc_id": int(sample["doc_id"]), "input": sample["input"]}
        row.update({key: sample[key] for key in _BY_TYPE.get(sample["output_type"], [])})
        row["metrics"] = sample["metrics"]
        rows.append(row)
    return rows


def _csv_cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def write_rows(rows: list[dict[str, Any]], fmt: str, out: str | Path | None) -> None:
    """Write rows to ``out`` (stdout when None; parquet needs a file)."""
    if out is not None:
        out = output_file(out, "--out")
    if fmt == "jsonl":
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    elif fmt == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
        text = buffer.getvalue()
    elif fmt == "parquet":
        if out is None:
            raise HarnessError("parquet is binary: pass --out FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows).replace_schema_metadata({"harness_schema_version": str(SCHEMA_VERSION)})
        pq.write_table(table, str(out))
        return
    else:
        raise HarnessError(f"unknown export format {fmt!r}; use jsonl, csv or parquet")
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
