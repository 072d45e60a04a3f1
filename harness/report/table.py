"""A leaderboard's table built from the store: one row per model (and revision), one cell per column."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UnknownNameError, did_you_mean
from harness.report.definitions import Column, Group, Leaderboard
from harness.store import Store

_STEP = re.compile(r"step(\d+)$")


@dataclass(frozen=True)
class Cell:
    """One model's score on one column, from one run."""

    value: float
    stderr: float | None
    run_id: str
    n: int | None = None  # samples the value aggregates
    complete: bool = True  # False: the run was made with --limit (not comparable with full runs)


@dataclass
class Row:
    """One model (at one revision) on the leaderboard."""

    model: str
    revision: str | None
    strategy: str | None  # the prompt strategy of the row's runs (rows per strategy sit side by side)
    family: str
    parameters: int | None
    runs: list[dict[str, Any]] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    groups: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    variant: str | None = None  # weights as loaded: quantized, with an adapter (``nf4``, ``lora:NAME``)

    @property
    def qualifiers(self) -> str:
        """What sets the row apart from the model's plain one: its variant and prompt strategy."""
        return ", ".join(q for q in (self.variant, self.strategy) if q)

    @property
    def label(self) -> str:
        """``model``, ``model@revision``, with `` [variant, strategy]`` when the runs had them."""
        name = f"{self.model}@{self.revision}" if self.revision else self.model
        return f"{name} [{self.qualifiers}]" if self.qualifiers else name

    @property
    def peak_memory_gb(self) -> float | None:
        """The most memory one of the row's runs held (GiB): GPU memory, or the process's on the CPU."""
        peaks = [r["peak_memory_mb"] for r in self.runs if r.get("peak_memory_mb") is not None]
        return max(peaks) / 1024 if peaks else None

    @property
    def latest(self) -> dict[str, Any]:
        """The newest run counted for this row (for metadata)."""
        return max(self.runs, key=lambda r: r["finished_at"] or "")

    @property
    def training_step(self) -> int | None:
        """Pythia-style ``stepN`` revisions as N."""
        match = _STEP.search(self.revision or "")
        return int(match.group(1)) if match else None

    @property
    def complete(self) -> bool:
        """Whether every cell comes from a run made without --limit."""
        return all(cell.complete for cell in self.cells.values())

    @property
    def samples_per_s(self) -> float | None:
        """Samples per second over this row's measured runs: those whose every answer came from model calls
        (a run answered from the cache measured the cache, not the model)."""
        measured = [r for r in self.runs if r["samples_per_s"] is not None and not r.get("n_cached_answers")]
        seconds = sum(r["duration_s"] or 0.0 for r in measured)
        return sum(r["n_samples"] or 0 for r in measured) / seconds if seconds > 0 else None

    def axis(self, name: str) -> float | None:
        """A plot coordinate: a run property, a group score or a column value."""
        if name == "parameters":
            return self.parameters
        if name == "training_step":
            return self.training_step
        if name == "samples_per_s":
            return self.samples_per_s
        if name == "peak_memory_gb":
            return self.peak_memory_gb
        if name in self.groups:
            return self.groups[name]
        cell = self.cells.get(name)
        return cell.value if cell else None


@dataclass
class Table:
    """The leaderboard's rows, best overall score first."""

    board: Leaderboard
    rows: list[Row]
    tag: str | None

    @property
    def run_ids(self) -> list[str]:
        """Every run a cell links to."""
        return list(dict.fromkeys(cell.run_id for row in self.rows for cell in row.cells.values()))


def build_table(board: Leaderboard, store: Store, tag: str | None = None) -> Table:
    """Pick each model's run per task (latest finished, or the one carrying the tag) and fill the cells.

    Runs are keyed as the store's ``latest_runs`` view keys them (model name, revision, variant, prompt strategy,
    task), and the store picks the latest of each. A model evaluated with prompt strategies gets a row per
    strategy: its generative runs with that strategy, beside its runs that no strategy changes (log-likelihood
    tasks), which every row of the model shares.
    """
    if tag is not None:
        known = [found["tag"] for found in store.tags()]
        if tag not in known:
            raise UnknownNameError(f"no run carries the tag {tag!r}{did_you_mean(tag, known)}; 'harness tags' "
                                   "lists them")
    tag = tag if tag is not None else board.tag
    latest: dict[tuple[str, str | None, str | None, str | None, str], dict[str, Any]] = {}
    for run in store.latest_runs(board.tasks, tag):
        latest[(run["model_name"], run["revision"], run["variant"], run["prompt_strategy"], run["task"])] = run
    strategies: dict[tuple[str, str | None, str | None], set[str | None]] = {}
    for model, revision, variant, strategy, _ in latest:
        strategies.setdefault((model, revision, variant), set()).add(strategy)
    rows: list[Row] = []
    for (model, revision, variant), found in strategies.items():
        named = sorted(s for s in found if s is not None)
        plain_generative = any(key[:4] == (model, revision, variant, None) and run["output_type"] == "generate_until"
                               for key, run in latest.items())
        for strategy in ([None] if plain_generative or not named else []) + named:
            runs = [run for (m, r, v, s, _), run in latest.items() if (m, r, v) == (model, revision, variant)
                    and (s == strategy or (s is None and run["output_type"] != "generate_until"))]
            info = runs[0]["model_info"] or {}
            row = Row(model, revision, strategy, str(info.get("family") or "other"), info.get("parameters"), runs=runs,
                      variant=variant)
            for run in runs:
                for column in board.columns:
                    if column.task == run["task"]:
                        metric = _metric(run["metrics"], column)
                        if metric is not None:
                            row.cells[column.id] = Cell(metric["value"], metric["stderr"], run["run_id"],
                                                        metric["n"], bool(run["complete"]))
            _aggregate(board, row)
            rows.append(row)
    sign = 1.0 if board.lower_is_better else -1.0  # best first

    def rank(row: Row) -> tuple:
        """Complete rows first (a limited run's score is not comparable); then the overall score; rows without
        one (a group not evaluated) by their group scores in order."""
        groups = [row.groups.get(g.name) for g in board.scored_groups]
        return (not row.complete, row.score is None, sign * (row.score or 0.0),
                *((value is None, sign * (value or 0.0)) for value in groups), row.label)

    return Table(board, sorted(rows, key=rank), tag)


def _metric(metrics: list[dict[str, Any]], column: Column) -> dict[str, Any] | None:
    matches = [m for m in metrics if m["metric"] == column.metric and isinstance(m["value"], (int, float))
               and (column.filter is None or m["filter"] == column.filter)]
    return matches[0] if matches else None


def _aggregate(board: Leaderboard, row: Row) -> None:
    """Group score: mean of its (normalised) columns, None if one is missing; overall: mean of scored groups."""
    for group in board.scored_groups:
        values = []
        for column in group.columns:
            cell = row.cells.get(column.id)
            if cell is None or not math.isfinite(cell.value):
                values = None
                break
            values.append(column.normalise(cell.value) if group.normalise else cell.value)
        row.groups[group.name] = sum(values) / len(values) if values else None
    scores = list(row.groups.values())
    row.score = sum(scores) / len(scores) if scores and None not in scores else None


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table_records(table: Table) -> list[dict[str, Any]]:
    """Flat records (one per row) for CSV and JSON: metadata, scores, whether every cell comes from a run made
    without --limit (``complete``), and per column its value, stderr, samples scored (``:n``) and ``:complete``."""
    records = []
    for rank, row in enumerate(table.rows, 1):
        latest = row.latest
        record: dict[str, Any] = {
            "rank": rank, "model": row.model, "revision": row.revision, "prompt_strategy": row.strategy,
            "variant": row.variant, "family": row.family, "parameters": row.parameters,
            "peak_memory_gb": row.peak_memory_gb, "dtype": latest["dtype"], "backend": latest["backend"],
            "harness_version": (latest["versions"] or {}).get("harness"), "date": latest["finished_at"],
            "score": row.score, "complete": row.complete}
        record.update({f"group:{name}": value for name, value in row.groups.items()})
        for column in table.board.columns:
            cell = row.cells.get(column.id)
            record[column.id] = cell.value if cell else None
            record[f"{column.id}:stderr"] = cell.stderr if cell else None
            record[f"{column.id}:n"] = cell.n if cell else None
            record[f"{column.id}:complete"] = cell.complete if cell else None
        records.append(record)
    return records


def to_csv(table: Table) -> str:
    """The table as CSV (every column's value and stderr)."""
    buffer = io.StringIO()
    records = table_records(table)
    fields = list(records[0]) if records else ["rank", "model", "score"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def to_markdown(table: Table, wide: bool = False) -> str:
    """The table as Markdown for terminals and pull-request comments: the scores of the groups, or with ``wide``
    also every column (value ± stderr)."""
    board = table.board
    columns = board.columns if wide else []
    header = ["#", "model", "score", *(g.title or g.name for g in board.scored_groups),
              *(c.title for c in columns), "memory (GiB)"]
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    for rank, row in enumerate(table.rows, 1):
        cells = []
        for column in columns:
            cell = row.cells.get(column.id)
            cells.append("—" if cell is None else cell_text(cell))
        values = [str(rank), row.label, _number(row.score) or "—",
                  *(group_text(row, g, marked=not wide) for g in board.scored_groups), *cells,
                  _number(row.peak_memory_gb, 2) or "—"]
        lines.append("| " + " | ".join(_md(v) for v in values) + " |")
    hidden = "" if wide else (f"\n{len(board.columns)} task columns not shown: --wide shows them (csv and json "
                              "always have every column).\n")
    return f"**{_md(board.title)}**\n\n" + "\n".join(lines) + "\n" + hidden + limited_note(table, "\n")


def group_text(row: Row, group: Group, marked: bool) -> str:
    """A row's group score as text (``—`` without one); ``marked``: ``(limited)`` when one of the group's cells
    comes from a run made with --limit (for views that do not show the cells)."""
    text = _number(row.groups.get(group.name)) or "—"
    limited = any(not cell.complete for cell in (row.cells.get(c.id) for c in group.columns) if cell)
    return text + (" (limited)" if marked and limited else "")


def cell_text(cell: Cell) -> str:
    """A cell as text: value ± stderr, then the samples scored, marked ``limited`` for a run made with --limit."""
    stderr = f" ± {cell.stderr:.4f}" if cell.stderr is not None else ""
    n = "" if cell.n is None else f"n={cell.n}"
    marks = ", ".join(m for m in (n, "" if cell.complete else "limited") if m)
    return _number(cell.value) + stderr + (f" ({marks})" if marks else "")


LIMITED_NOTE = ("limited: scored by a run made with --limit, on part of the task: not comparable with full runs; "
                "rows with limited cells rank after complete ones.")


def limited_note(table: Table, before: str = "") -> str:
    """The line explaining ``limited`` cells (with ``before`` it), or nothing when every row is complete."""
    return before + LIMITED_NOTE + "\n" if any(not row.complete for row in table.rows) else ""


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
