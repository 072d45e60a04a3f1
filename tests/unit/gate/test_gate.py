"""`harness compare`, `harness gate`, tags and baseline files, end to end through the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs
from tests.helpers import cli_json, run_cli

TASK = "finance_headline"


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    """tiny-pythia evaluated twice on the same documents (the second time from the cache), and once with
    a different few-shot setup (another task hash)."""
    db = tmp_path_factory.mktemp("gate") / "store.duckdb"
    for extra in (["--tag", "base"], ["--tag", "cand"], ["--num-fewshot", "2", "--tag", "shots"]):
        proc = run_cli("run", "--model", "tiny-pythia", "--task", TASK, "--limit", "20", "--db", str(db), *extra)
        assert proc.returncode == 0, proc.stderr
    return db


def test_identical_runs_pass_the_gate(real_store, tmp_path):
    proc = run_cli("gate", "--baseline", "base", "--candidate", "cand", "--db", str(real_store),
                   "--markdown", str(tmp_path / "gate.md"), "--junit", str(tmp_path / "gate.xml"))
    assert proc.returncode == 0, proc.stderr
    assert "PASS" in proc.stdout and "FAIL" not in proc.stdout and "gate passed" in proc.stderr
    assert "passed (0 of 1 metrics failed)" in (tmp_path / "gate.md").read_text()
    suite = ET.parse(tmp_path / "gate.xml").getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "0"


def test_a_committed_baseline_file_gates_like_the_runs_it_came_from(real_store, tmp_path):
    baseline = tmp_path / "baselines" / "tiny.json"
    proc = run_cli("export-baseline", "base", "--out", str(baseline), "--db", str(real_store))
    assert proc.returncode == 0, proc.stderr
    content = json.loads(baseline.read_text())
    assert content["format"] == "harness-baseline" and content["schema_version"] == 1
    (run,) = content["runs"]
    assert {"model_fingerprint", "task_hash", "settings_hash", "metric_names"} <= set(run)
    assert run["metric_names"] == ["acc"] and len(run["samples"]) == 20
    assert all(set(s["metrics"]) == {"acc"} for s in run["samples"])
    # the file works without the store that produced it
    proc = run_cli("gate", "--baseline", str(baseline), "--candidate", "cand", "--db", str(real_store))
    assert proc.returncode == 0, proc.stderr
    other = tmp_path / "empty.duckdb"
    assert run_cli("gate", "--baseline", str(baseline), "--candidate", str(baseline), "--db",
                   str(other)).returncode == 0
    assert not other.exists()


def test_mismatched_task_hashes_are_refused_unless_forced(real_store):
    proc = run_cli("gate", "--baseline", "base", "--candidate", "shots", "--db", str(real_store))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "task hash" in proc.stderr and "--force" in proc.stderr
    proc = run_cli("compare", "base", "shots", "--db", str(real_store))
    assert proc.returncode == 2 and "task hash" in proc.stderr
    forced = cli_json("compare", "base", "shots", "--force", "--format", "json", "--db", str(real_store))
    assert forced[0]["task"] == TASK and forced[0]["test"] == "mcnemar-exact"


def _accuracy_runs(db, base_right: int, cand_right: int, n: int = 200, seed: int = 0) -> tuple[str, str]:
    """A baseline and a candidate on the same documents; the candidate loses exactly the difference."""
    rng = np.random.default_rng(seed)
    base = np.zeros(n)
    base[rng.choice(n, base_right, replace=False)] = 1
    cand = base.copy()
    cand[rng.choice(np.flatnonzero(base == 1), base_right - cand_right, replace=False)] = 0
    ids = write_runs(Store(db), [SyntheticRun("model-a", TASK, {"acc": list(base)}, age_s=60),
                                 SyntheticRun("model-a", TASK, {"acc": list(cand)})])
    return ids[0], ids[1]


def test_a_real_significant_drop_fails(tmp_path):
    db = tmp_path / "s.duckdb"
    base, cand = _accuracy_runs(db, 160, 120)  # 0.80 -> 0.60: 40 discordant pairs, all one way
    proc = run_cli("gate", "--baseline", base, "--candidate", cand, "--db", str(db), "--junit",
                   str(tmp_path / "j.xml"), "--markdown", str(tmp_path / "g.md"))
    assert proc.returncode == 1, proc.stderr
    assert "FAIL" in proc.stdout and "gate FAILED" in proc.stderr
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "significant" in failure.get("message")
    assert "FAILED (1 of 1 metrics failed)" in (tmp_path / "g.md").read_text()
    # tolerated when the allowed drop covers it
    assert run_cli("gate", "--baseline", base, "--candidate", cand, "--max-drop", "0.25",
                   "--db", str(db)).returncode == 0


def test_a_small_insignificant_drop_passes(tmp_path):
    db = tmp_path / "s.duckdb"
    base, cand = _accuracy_runs(db, 160, 158)  # two flips: McNemar p = 0.5
    checks = cli_json("gate", "--baseline", base, "--candidate", cand, "--format", "json", "--db", str(db))
    (check,) = checks
    assert check["verdict"] == "pass" and check["drop"] == pytest.approx(0.01)
    assert check["p_value"] == pytest.approx(0.5) and "not significant" in check["reason"]
    # p = 0.5 is not significant at a looser alpha either
    assert run_cli("gate", "--baseline", base, "--candidate", cand, "--alpha", "0.3",
                   "--db", str(db)).returncode == 0


def test_lower_is_better_metrics_fail_when_they_rise(tmp_path):
    db = tmp_path / "s.duckdb"
    rng = np.random.default_rng(3)
    base = rng.gamma(2.0, 100.0, 150)
    worse = base + rng.normal(30.0, 10.0, 150)  # a distance-like metric grows: worse
    store = Store(db)
    ids = write_runs(store, [SyntheticRun("v", "video_task", {"fvd": list(base)}, higher_is_better={"fvd": False}),
                             SyntheticRun("v2", "video_task", {"fvd": list(worse)}, higher_is_better={"fvd": False})])
    proc = run_cli("gate", "--baseline", ids[0], "--candidate", ids[1], "--format", "json", "--db", str(db))
    checks = json.loads(proc.stdout)
    assert proc.returncode == 1 and checks[0]["test"] == "paired-bootstrap" and checks[0]["drop"] > 25 and checks[0]["verdict"] == "fail"
    # and pass when they fall
    assert run_cli("gate", "--baseline", ids[1], "--candidate", ids[0], "--db", str(db)).returncode == 0


def test_tags_move_to_the_newest_run_per_model_and_task(tmp_path):
    db = tmp_path / "s.duckdb"
    first, second = _accuracy_runs(db, 100, 90)
    assert run_cli("tag", first, "best", "--db", str(db)).returncode == 0
    assert run_cli("tag", second, "best", "--db", str(db)).returncode == 0
    (tag,) = cli_json("tags", "--format", "json", "--db", str(db))
    assert tag["tag"] == "best" and tag["runs"] == [second]
    assert run_cli("tag", "--delete", "best", "--db", str(db)).returncode == 0
    assert cli_json("tags", "--format", "json", "--db", str(db)) == []


@pytest.mark.parametrize("args, message", [
    (["--alpha", "2"], "--alpha 2 must be between 0 and 1"),
    (["--max-drop", "-0.1"], "--max-drop -0.1 must be 0 or more"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    db = tmp_path / "s.duckdb"
    base, cand = _accuracy_runs(db, 100, 100)
    proc = run_cli("gate", "--baseline", base, "--candidate", cand, "--db", str(db), *args)
    assert proc.returncode == 2 and message in proc.stderr


def test_unknown_refs_and_bad_baseline_files_exit_2(tmp_path):
    db = tmp_path / "s.duckdb"
    base, _ = _accuracy_runs(db, 100, 100)
    proc = run_cli("gate", "--baseline", base, "--candidate", "no-such-tag", "--db", str(db))
    assert proc.returncode == 2 and "'no-such-tag' is no file, tag, invocation or run" in proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    proc = run_cli("gate", "--baseline", str(bad), "--candidate", base, "--db", str(db))
    assert proc.returncode == 2 and "not a harness baseline file" in proc.stderr
    other_task = write_runs(Store(db), [SyntheticRun("model-a", "finance_sentiment", {"acc": [1.0, 0.0]})])[0]
    proc = run_cli("gate", "--baseline", base, "--candidate", other_task, "--db", str(db))
    assert proc.returncode == 2 and f"the candidate has no run of task '{TASK}'" in proc.stderr


def test_task_hashes_do_not_depend_on_where_the_checkout_lies(tmp_path, monkeypatch):
    """A committed baseline must match runs made from another clone of the repository."""
    import shutil

    import harness.text.tasks as text_tasks
    from harness.resources import tasks_dir

    here = text_tasks.task_hash(text_tasks.load_tasks([TASK])[TASK])
    shutil.copytree(tasks_dir(), tmp_path / "elsewhere" / "tasks")
    monkeypatch.setattr(text_tasks, "tasks_dir", lambda: tmp_path / "elsewhere" / "tasks")
    moved = text_tasks.load_tasks([TASK])[TASK]
    assert str(tmp_path) in moved.dump_config()["metadata"]["config_source"]
    assert text_tasks.task_hash(moved) == here
