"""What a comparison needs of a run, read from the store or from a committed baseline file.

A reference (REF) names runs: a baseline file if such a path exists, else a tag, else an invocation or run id.
Baseline files (``harness export-baseline``) are versioned JSON holding per-sample outcomes, so paired tests
work against them after the store that produced them is gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.outputs import output_file
from harness.store import Store, utcnow

BASELINE_FORMAT = "harness-baseline"
BASELINE_VERSION = 1


@dataclass
class RunOutcome:
    """A finished run's identity, metrics and per-sample metric values by document."""

    run_id: str
    model: str
    model_fingerprint: str
    task: str
    task_hash: str
    settings_hash: str
    metrics: list[dict[str, Any]]
    samples: dict[int, dict[str, Any]] = field(default_factory=dict)
    source: str = "store"

    def per_sample(self, metric: str, filter_key: str) -> dict[int, Any]:
        """Per-document values of one metric (keyed ``metric`` or ``metric,filter`` in the samples)."""
        out = {}
        for doc_id, values in self.samples.items():
            if metric in values:
                out[doc_id] = values[metric]
            elif f"{metric},{filter_key}" in values:
                out[doc_id] = values[f"{metric},{filter_key}"]
        return out


def from_store(store: Store, run_ids: list[str]) -> list[RunOutcome]:
    """Outcomes of finished runs; an unfinished run is refused with one line."""
    outcomes = []
    for run_id in run_ids:
        shown = store.get_run(run_id)
        run = shown["run"]
        if run["status"] != "finished":
            raise HarnessError(f"run {run['run_id']} is {run['status']}; only finished runs can be compared "
                               "(resume it with 'harness run ... --resume')")
        samples = {int(row["doc_id"]): row["metrics"] or {} for row in store.sample_rows(run["run_id"])}
        outcomes.append(RunOutcome(run["run_id"], run["model"], run["model_fingerprint"], run["task"],
                                   run["task_hash"], run["settings_hash"], shown["metrics"], samples))
    return outcomes


def load_ref(ref: str, store: Store) -> list[RunOutcome]:
    """The runs a REF names: a baseline file path if it exists, else a tag, else an invocation or run id."""
    path = Path(ref)
    if path.is_file():
        return read_baseline(path)
    return from_store(store, store.runs_named(ref))


def write_baseline(outcomes: list[RunOutcome], path: Path, harness_version: str) -> dict[str, Any]:
    """Write a versioned baseline file (atomically) and return its content."""
    path = output_file(path, "--out")
    content = {
        "format": BASELINE_FORMAT, "schema_version": BASELINE_VERSION, "created_at": utcnow().isoformat() + "Z",
        "harness_version": harness_version,
        "runs": [{
            "run_id": o.run_id, "model": o.model, "model_fingerprint": o.model_fingerprint, "task": o.task,
            "task_hash": o.task_hash, "settings_hash": o.settings_hash,
            "metric_names": sorted({m["metric"] for m in o.metrics}), "metrics": o.metrics,
            "samples": [{"doc_id": doc_id, "metrics": values} for doc_id, values in sorted(o.samples.items())],
        } for o in sorted(outcomes, key=lambda o: (o.task, o.model))],
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return content


def read_baseline(path: Path) -> list[RunOutcome]:
    """Outcomes from a baseline file, with one-line errors for files that are not baselines."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not a readable baseline file ({exc}); write one with "
                           "'harness export-baseline RUN... --out FILE'") from exc
    if not isinstance(content, dict) or content.get("format") != BASELINE_FORMAT:
        raise HarnessError(f"{path}: not a harness baseline file; write one with 'harness export-baseline'")
    version = content.get("schema_version")
    if version != BASELINE_VERSION:
        raise HarnessError(f"{path}: baseline schema version {version} is not {BASELINE_VERSION}, the one this "
                           "harness reads; re-export it with this harness")
    try:
        outcomes = [RunOutcome(r["run_id"], r["model"], r["model_fingerprint"], r["task"], r["task_hash"],
                               r["settings_hash"], [_metric_entry(m) for m in r["metrics"]],
                               {int(s["doc_id"]): dict(s["metrics"]) for s in r["samples"]}, source=str(path))
                    for r in content["runs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"{path}: baseline file is incomplete ({exc!r} missing or malformed); re-export it") from exc
    return outcomes


_METRIC_KEYS = ("task", "metric", "filter", "value", "stderr", "n", "higher_is_better")


def _metric_entry(entry: Any) -> dict[str, Any]:
    """A baseline's metric entry with every key a stored metric row has (a value that is no number is kept:
    such metrics are not compared)."""
    missing = [key for key in _METRIC_KEYS if key not in entry]
    if missing or not isinstance(entry["metric"], str) or not isinstance(entry["filter"], str):
        raise KeyError(", ".join(missing) or "metric and filter names")
    return dict(entry)

