"""Per task and metric, the difference between two sets of runs with a paired test on per-sample outcomes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.gate.outcomes import RunOutcome
from harness.metrics.paired import PairedTest, paired_test


@dataclass(frozen=True)
class Comparison:
    """One metric of one task: baseline and candidate values, and the paired test of their difference."""

    task: str
    metric: str
    filter: str
    higher_is_better: bool
    baseline: float
    candidate: float
    test: PairedTest | None
    note: str = ""

    @property
    def difference(self) -> float:
        """Candidate − baseline, in the metric's units."""
        return self.candidate - self.baseline

    @property
    def drop(self) -> float:
        """How much worse the candidate is (negative when it is better): an increase for lower-is-better."""
        return -self.difference if self.higher_is_better else self.difference

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready row."""
        test = self.test
        return {"task": self.task, "metric": self.metric, "filter": self.filter,
                "higher_is_better": self.higher_is_better, "baseline": self.baseline, "candidate": self.candidate,
                "difference": self.difference, "drop": self.drop, "test": test.test if test else None,
                "n_pairs": test.n if test else None, "ci_low": test.ci_low if test else None,
                "ci_high": test.ci_high if test else None, "p_value": test.p_value if test else None,
                "note": self.note}


def pair_runs(baseline: list[RunOutcome], candidate: list[RunOutcome], force: bool = False,
              ) -> list[tuple[RunOutcome, RunOutcome]]:
    """Match runs by task; refuse missing tasks, duplicates and (unless forced) differing task hashes."""
    by_task = _one_per_task(candidate, "candidate")
    pairs = []
    for base in _one_per_task(baseline, "baseline").values():
        cand = by_task.get(base.task)
        if cand is None:
            raise HarnessError(f"the candidate has no run of task {base.task!r}, which the baseline has; "
                               f"evaluate it ('harness run --model {_model_of(candidate)} --task {base.task}')")
        if cand.task_hash != base.task_hash and not force:
            raise HarnessError(f"task {base.task!r} differs between the runs (task hash {base.task_hash[:12]} vs "
                               f"{cand.task_hash[:12]}: its prompts, documents or few-shot setup changed), so "
                               "scores are not comparable; pass --force to compare anyway")
        docs_base, docs_cand = set(base.samples), set(cand.samples)
        if docs_base != docs_cand and not force:
            raise HarnessError(f"task {base.task!r}: the runs scored different documents ({len(docs_base)} vs "
                               f"{len(docs_cand)}; a different --limit?); pass --force to compare the "
                               "documents both scored")
        pairs.append((base, cand))
    return pairs


def _model_of(candidate: list[RunOutcome]) -> str:
    """The candidate's model name, for hints."""
    return candidate[0].model if candidate else "MODEL"


def _one_per_task(outcomes: list[RunOutcome], label: str) -> dict[str, RunOutcome]:
    by_task: dict[str, RunOutcome] = {}
    for outcome in outcomes:
        if outcome.task in by_task:
            raise HarnessError(f"the {label} names two runs of task {outcome.task!r} ({by_task[outcome.task].run_id} "
                               f"and {outcome.run_id}); name one run per task (a tag moves to the newest run)")
        by_task[outcome.task] = outcome
    return by_task


def compare_runs(baseline: list[RunOutcome], candidate: list[RunOutcome], *, force: bool = False,
                 only: set[tuple[str, str]] | None = None) -> list[Comparison]:
    """Compare every metric the baseline has (or only the (task, metric) pairs in ``only``)."""
    rows = []
    for base, cand in pair_runs(baseline, candidate, force):
        cand_metrics = {(m["metric"], m["filter"]): m for m in cand.metrics}
        for metric in base.metrics:
            key = (metric["metric"], metric["filter"])
            if only is not None and (base.task, metric["metric"]) not in only:
                continue
            if not isinstance(metric["value"], (int, float)):
                continue
            other = cand_metrics.get(key)
            if other is None:
                raise HarnessError(f"task {base.task!r}: the candidate has no metric {key[0]!r} (filter {key[1]!r})")
            rows.append(_compare_metric(base, cand, metric, other))
    return rows


def _compare_metric(base: RunOutcome, cand: RunOutcome, metric: dict, other: dict) -> Comparison:
    name, filter_key = metric["metric"], metric["filter"]
    higher = metric.get("higher_is_better")
    higher = True if higher is None else bool(higher)
    test, note = None, ""
    base_values, cand_values = base.per_sample(name, filter_key), cand.per_sample(name, filter_key)
    _same_kind(base, cand, name, base_values, cand_values)
    docs = sorted(set(base_values) & set(cand_values))
    if not docs:
        note = "no per-sample values: compared by value only"
    elif not (_is_mean_of(base_values, metric["value"]) and _is_mean_of(cand_values, other["value"])):
        note = "not a per-sample mean: compared by value only"
    else:
        test = paired_test([float(base_values[d]) for d in docs], [float(cand_values[d]) for d in docs])
    return Comparison(base.task, name, filter_key, higher, float(metric["value"]), float(other["value"]), test, note)


def _numbers(values: dict[int, Any]) -> bool:
    return all(isinstance(v, (int, float)) for v in values.values())


def _same_kind(base: RunOutcome, cand: RunOutcome, name: str, base_values: dict, cand_values: dict) -> None:
    """Refuse per-sample values of one side that are numbers where the other side's are not: a baseline edited or
    broken that way would turn the paired test off."""
    if base_values and cand_values and _numbers(base_values) != _numbers(cand_values):
        odd = base if not _numbers(base_values) else cand
        raise HarnessError(f"{odd.source}: per-sample values of {name!r} in task {odd.task!r} are not numbers, "
                           "unlike the other side's; re-export the baseline from a finished run")


def _is_mean_of(values: dict[int, Any], aggregate: float) -> bool:
    """True when the stored metric is the mean of its per-sample values (so a paired test applies)."""
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, complex) for v in values.values()):
        return False
    mean = math.fsum(float(v) for v in values.values()) / len(values)
    return math.isclose(mean, aggregate, rel_tol=1e-9, abs_tol=1e-9)
