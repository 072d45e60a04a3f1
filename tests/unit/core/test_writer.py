"""The run writer's record of where a run's answers came from, and the --limit warning."""

from __future__ import annotations

import pytest

from harness.core.execute import limit_warning
from harness.core.plans import TaskPlan
from harness.core.writer import RunIdentity, RunWriter, finished_result
from harness.records import Outcome
from harness.store import Store

IDENTITY = RunIdentity("m", "fp", "local", None, "transformers", "cpu", "float32", {"name": "m"})


def _finish(tmp_path, outcome: Outcome) -> tuple[dict, dict]:
    """Start one run, finish it with ``outcome``; the stored row and the result as ``harness.run`` returns it."""
    store = Store(tmp_path / "s.duckdb")
    writer = RunWriter(store, IDENTITY, lambda _: None)
    writer.start([TaskPlan("t", "h", {"limit": None}, "s")], {}, {"t": "multiple_choice"})
    writer.flush()
    result = writer.finish("t", outcome, {"load_s": 0.0, "peak_memory_mb": None})
    return store.get_run(result.run_id)["run"], result.as_dict()


@pytest.mark.parametrize("counts, model, cached, measured", [
    ({}, 8, 0, True),  # every answer from model calls (native task types count no others)
    ({"n_cached": 3}, 5, 3, True),  # partly from the cache: measured, but not only the model
    ({"n_cached": 8}, 0, 8, False),  # a repeated run answered from the cache: no throughput
    ({"n_resumed": 8}, 8, 0, False),  # an earlier attempt answered everything: the run's own answers, unmeasured
    ({"n_resumed": 2, "n_cached": 2}, 6, 2, True),
])
def test_a_run_records_its_model_and_cached_answers_and_a_throughput_only_when_measured(tmp_path, counts, model,
                                                                                        cached, measured):
    run, result = _finish(tmp_path, Outcome(n_samples=4, n_requests=8, seconds=2.0, **counts))
    assert (run["n_model_answers"], run["n_cached_answers"]) == (model, cached)
    assert (result["n_model_answers"], result["n_cached_answers"]) == (model, cached)
    assert run["samples_per_s"] == (2.0 if measured else None)
    assert run["requests_per_s"] == (4.0 if measured else None)
    assert run["duration_s"] == 2.0 and run["n_requests"] == 8


def test_a_reused_run_returns_the_counts_it_stored(tmp_path):
    run, _ = _finish(tmp_path, Outcome(n_samples=4, n_requests=8, seconds=2.0, n_cached=8))
    reused = finished_result(Store(tmp_path / "s.duckdb"), run["run_id"]).as_dict()
    assert (reused["n_model_answers"], reused["n_cached_answers"]) == (0, 8)


@pytest.mark.parametrize("limit, part", [(20, "its first 20 samples"), (0.1, "10% of its samples")])
def test_the_limit_warning_is_one_line_naming_the_flag(limit, part):
    line = limit_warning(limit)
    assert line.startswith(f"warning: --limit {limit:g} ") and part in line and "\n" not in line
    assert "not comparable with full runs" in line
