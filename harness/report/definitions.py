"""Leaderboard definitions (``leaderboards/*.yaml``), validated on load.

A leaderboard has groups of columns; each column is a task's metric with its direction. A model's group score
is the mean of the group's columns, each optionally normalised between a chance and a perfect score; its overall
score is the mean of its group scores. Misspelt keys, unknown tasks and unknown metrics are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from harness.errors import HarnessError, UnknownNameError, did_you_mean
from harness.resources import leaderboards_dir

# x axes a plot may use besides a column id ("task/metric")
RUN_AXES = ("parameters", "training_step", "samples_per_s", "peak_memory_gb")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    """One task metric shown as a column."""

    task: str
    metric: str
    direction: Literal["higher", "lower"]
    filter: str | None = None  # None: the task's only filter
    label: str | None = None
    chance: float | None = None
    perfect: float | None = None

    @property
    def id(self) -> str:
        """``task/metric``, how plots and tables name the column."""
        return f"{self.task}/{self.metric}"

    @property
    def title(self) -> str:
        """The column header."""
        return self.label or f"{self.task} {self.metric}"

    def normalise(self, value: float) -> float:
        """0 at chance, 1 at a perfect score (either direction)."""
        chance = 0.0 if self.chance is None else self.chance
        perfect = 1.0 if self.perfect is None else self.perfect
        return (value - chance) / (perfect - chance)


class Group(_Strict):
    """Columns aggregated into one score per model."""

    name: str
    title: str | None = None
    normalise: bool = False
    score: bool = True  # False: the columns are shown, but the group has no score and no part in the overall
    columns: list[Column]

    @model_validator(mode="after")
    def _check(self) -> Group:
        if not self.columns:
            raise ValueError(f"group {self.name!r} has no columns")
        for column in self.columns:
            bounds = (column.chance, column.perfect)
            if self.normalise and column.direction == "lower" and None in bounds:
                raise ValueError(f"column {column.id}: a lower-is-better column in a normalised group needs "
                                 "both chance and perfect")
            if (0.0 if bounds[0] is None else bounds[0]) == (1.0 if bounds[1] is None else bounds[1]):
                raise ValueError(f"column {column.id}: chance and perfect must differ")
        if self.score and not self.normalise and len({c.direction for c in self.columns}) > 1:
            raise ValueError(f"group {self.name!r} mixes higher- and lower-is-better columns; normalise it "
                             "(normalise: true) so its score means one thing")
        return self

    @property
    def direction(self) -> str:
        """Which way the group score is better: normalised scores are higher-is-better."""
        return "higher" if self.normalise else self.columns[0].direction


class Plot(_Strict):
    """A chart: a group score or column (y) against a run property or another column (x), one line per series."""

    title: str
    y: str
    x: str = "parameters"
    series: Literal["family", "model"] = "family"
    log_x: bool = False


class Leaderboard(_Strict):
    """A leaderboard definition."""

    name: str
    title: str
    description: str = ""
    tag: str | None = None  # None: each model's latest finished run per task; else the runs carrying this tag
    groups: list[Group]
    plots: list[Plot] = []

    @model_validator(mode="after")
    def _check(self) -> Leaderboard:
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("group names must be unique")
        if not self.scored_groups:
            raise ValueError("at least one group must have a score")
        if len({g.direction for g in self.scored_groups}) > 1:
            raise ValueError("the scored groups disagree on whether higher or lower is better; normalise them")
        names = [g.name for g in self.scored_groups]
        ids = [c.id for c in self.columns]
        if len(set(ids)) != len(ids):
            raise ValueError("a task metric appears twice")
        for plot in self.plots:
            for axis, value in (("y", plot.y), ("x", plot.x)):
                allowed = (*names, *ids) if axis == "y" else (*RUN_AXES, *ids)
                if value not in allowed:
                    raise ValueError(f"plot {plot.title!r}: {axis} {value!r} is not one of "
                                     f"{', '.join(allowed)}{did_you_mean(value, allowed)}")
        return self

    @property
    def columns(self) -> list[Column]:
        """Every column, group by group."""
        return [c for g in self.groups for c in g.columns]

    @property
    def lower_is_better(self) -> bool:
        """True when the overall score is better lower (every scored group is, e.g. FVD)."""
        return self.scored_groups[0].direction == "lower"

    @property
    def scored_groups(self) -> list[Group]:
        """The groups that have a score and count towards the overall score."""
        return [g for g in self.groups if g.score]

    @property
    def tasks(self) -> list[str]:
        """The tasks the leaderboard reads."""
        return list(dict.fromkeys(c.task for c in self.columns))

    def default_plots(self) -> list[Plot]:
        """The plots to draw: the defined ones, else each group's score against parameter count."""
        return list(self.plots) or [Plot(title=f"{g.title or g.name} against parameters", y=g.name,
                                         x="parameters", log_x=True) for g in self.scored_groups]


def definition_files() -> dict[str, Path]:
    """The built-in leaderboard YAML files by name."""
    return {p.stem: p for p in sorted(leaderboards_dir().glob("*.yaml"))}


def load_leaderboard(name: str, *, include_paths: list[str] | None = None,
                     task_metrics: dict[str, dict[str, list[str]]] | None = None) -> Leaderboard:
    """A leaderboard by name (or a YAML path), validated against the known tasks and their metrics."""
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        files = definition_files()
        if name not in files:
            raise UnknownNameError(f"unknown leaderboard {name!r}{did_you_mean(name, list(files))}; "
                                   "'harness leaderboard' lists them, or pass a YAML file")
        path = files[name]
    board = parse_leaderboard(path)
    if task_metrics is None:
        from harness.text.tasks import task_metrics as read_task_metrics

        task_metrics = read_task_metrics(include_paths)
    check_columns(board, task_metrics, path)
    return board


def parse_leaderboard(path: Path) -> Leaderboard:
    """Parse and validate a definition's structure; errors name the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise HarnessError(f"{path}: not readable YAML{where} ({problem})") from exc
    if not isinstance(raw, dict):
        raise HarnessError(f"{path}: a leaderboard is a mapping with name, title and groups")
    try:
        return Leaderboard.model_validate(raw)
    except ValidationError as exc:
        # a misspelt key also shows as the missing right one: name the misspelling
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise HarnessError(f"{path}: {_explain(errors[0])}") from exc


def _explain(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        fields = _fields_at(error["loc"][:-1])
        return f"unknown key {where!r}{did_you_mean(key, fields)}"
    if error["type"] == "missing":
        return f"missing key {where!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _fields_at(location: tuple) -> list[str]:
    model: type[BaseModel] = Leaderboard
    for part in location:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        model = next((t for t in getattr(annotation, "__args__", ()) if isinstance(t, type)
                      and issubclass(t, BaseModel)), annotation)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def check_columns(board: Leaderboard, known: dict[str, dict[str, list[str]]], path: Path) -> None:
    """Every column names a known task, one of its metrics and (if given) one of its filters."""
    for column in board.columns:
        if column.task not in known:
            raise UnknownNameError(f"{path}: column {column.id}: unknown task {column.task!r}"
                                   f"{did_you_mean(column.task, list(known))}; 'harness tasks' lists them")
        metrics, filters = known[column.task]["metrics"], known[column.task]["filters"]
        if column.metric not in metrics:
            raise UnknownNameError(f"{path}: column {column.id}: task {column.task!r} has no metric "
                                   f"{column.metric!r} (it has {', '.join(metrics)})"
                                   f"{did_you_mean(column.metric, metrics)}")
        if column.filter is not None and column.filter not in filters:
            raise UnknownNameError(f"{path}: column {column.id}: task {column.task!r} has no filter "
                                   f"{column.filter!r} (it has {', '.join(filters)})")


def list_leaderboards() -> list[dict[str, str]]:
    """The built-in definitions: name, title, description and file."""
    boards = []
    for name, path in definition_files().items():
        board = parse_leaderboard(path)
        boards.append({"name": name, "title": board.title, "description": board.description, "path": str(path)})
    return boards
