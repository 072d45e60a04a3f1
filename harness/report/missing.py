"""Why a leaderboard cell is empty: no run of the task, a run without the metric, or a group only partly evaluated.

Each function returns a ``Gap``: a short mark to show in the cell and the full reason for its tooltip; None when the
cell has a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.report.definitions import Column, Group, Leaderboard
from harness.report.table import Row


@dataclass(frozen=True)
class Gap:
    """Why a cell is empty: ``mark`` fits in the cell, ``reason`` says it in full."""

    mark: str
    reason: str


def column_gap(row: Row, column: Column) -> Gap | None:
    """Why the row has no value in a column: no counted run of its task, or a run that lacks the metric."""
    cell = row.cells.get(column.id)
    if cell is not None:
        return None if math.isfinite(cell.value) else Gap("not a number", f"{column.title} is {cell.value}")
    if not any(run["task"] == column.task for run in row.runs):
        return Gap("no run", f"no run for this task ({column.task})")
    metric = column.metric + (f" (filter {column.filter})" if column.filter else "")
    return Gap("no metric", f"the run of {column.task} reported no {metric}")


def group_gap(row: Row, group: Group) -> Gap | None:
    """Why the row has no score for a group: the columns it lacks (a group scores only when all are there)."""
    if row.groups.get(group.name) is not None:
        return None
    gaps = [(column, column_gap(row, column)) for column in group.columns]
    lacking = [f"{column.title}: {gap.reason}" for column, gap in gaps if gap is not None]
    total, done = len(group.columns), len(group.columns) - len(lacking)
    if not lacking:
        return Gap("no score", f"{group.title or group.name} has no score")
    return Gap(f"{done} of {total}", f"task group partially evaluated: {done} of {total} columns "
                                     f"(a group scores only when all are there); missing: {'; '.join(lacking)}")


def score_gap(row: Row, board: Leaderboard) -> Gap | None:
    """Why the row has no overall score: the scored groups it lacks."""
    if row.score is not None:
        return None
    groups = board.scored_groups
    lacking = [group.title or group.name for group in groups if group_gap(row, group) is not None]
    done = len(groups) - len(lacking)
    if not lacking:
        return Gap("no score", "no overall score")
    return Gap(f"{done} of {len(groups)} groups", f"partially evaluated: {done} of {len(groups)} scored groups "
                                                  f"(the overall score needs all); missing: {', '.join(lacking)}")
