"""Listings a user reads in a terminal, through the CLI: ``runs`` filters, ``tasks`` details, and tables that fit
120 columns on a terminal (forced with TTY_COMPATIBLE=1, COLUMNS=120) and print whole when piped."""

from __future__ import annotations

import duckdb
import pytest

from harness.resources import tasks_dir
from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs
from tests.helpers import cli_json, run_cli

TERMINAL_120 = {"TTY_COMPATIBLE": "1", "COLUMNS": "120"}
LONG_MODEL = "pythia-410m-deduped@step143000"
LONG_TASK = "reasoning_logical_deduction_cot"


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Five runs, oldest first: two models, three tasks, one failed."""
    db = tmp_path_factory.mktemp("listings") / "s.duckdb"
    ids = write_runs(Store(db), [
        SyntheticRun("alpha", "finance_sentiment", {"acc": [1, 0, 1, 0]}, age_s=50),
        SyntheticRun(LONG_MODEL, LONG_TASK, {"exact_match": [1, 0]}, filter="extract-choice", age_s=40),
        SyntheticRun("alpha", "finance_headline", {"acc": [1, 1]}, age_s=30),
        SyntheticRun(LONG_MODEL, "finance_headline", {"acc": [0, 1, 1]}, age_s=20),
        SyntheticRun("alpha", LONG_TASK, {"exact_match": [1]}, filter="extract-choice", age_s=10)])
    with duckdb.connect(str(db)) as conn:
        conn.execute("UPDATE runs SET status = 'failed' WHERE run_id = ?", [ids[2]])
    return db, ids


@pytest.mark.parametrize("args, expected", [
    ([], [4, 3, 2, 1, 0]),
    (["--model", "alpha"], [4, 2, 0]),
    (["--model", "pythia-410m-deduped"], [3, 1]),  # any revision
    (["--model", "pythia-*", "--task", "finance_*"], [3]),
    (["--task", LONG_TASK], [4, 1]),
    (["--status", "failed"], [2]),
    (["--last", "2"], [4, 3]),
    (["--model", "alpha", "--last", "2"], [4, 2]),  # the newest after the filters
    (["--model", "nobody"], []),
])
def test_runs_filter_by_model_task_and_status_and_show_the_latest(store, args, expected):
    db, ids = store
    listed = cli_json("runs", *args, "--format", "json", "--db", str(db))
    assert [r["run_id"] for r in listed] == [ids[i] for i in expected]
    table = run_cli("runs", *args, "--db", str(db))
    assert table.returncode == 0 and all(ids[i] in table.stdout for i in expected)
    assert not expected == ("no runs match" in table.stdout)


@pytest.mark.parametrize("args, message", [
    (["--status", "finishd"], "invalid choice: 'finishd'"),
    (["--last", "0"], "expected a positive whole number, not '0'"),
    (["--last", "two"], "expected a positive whole number, not 'two'"),
    (["--last", "-3"], "expected a positive whole number"),
])
def test_bad_runs_filters_are_one_line_usage_errors(store, args, message):
    proc = run_cli("runs", *args, "--db", str(store[0]))
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    if "finishd" in args:
        assert "did you mean 'finished'" in proc.stderr


def test_runs_fit_120_columns_piped_and_on_a_terminal(store):
    db, ids = store
    piped = run_cli("runs", "--db", str(db)).stdout
    assert widest(piped) <= 120 and len(piped.splitlines()) == 2 + len(ids)  # one line per run
    assert LONG_MODEL in piped and LONG_TASK in piped
    assert widest(run_cli("runs", "--db", str(db), env=TERMINAL_120).stdout) <= 120


def test_models_fit_120_columns_piped_and_on_a_terminal():
    piped = run_cli("models").stdout
    assert widest(piped) <= 120 and "EleutherAI/pythia-70m-deduped" in piped and "70.4M" in piped
    narrow = run_cli("models", env={"TTY_COMPATIBLE": "1", "COLUMNS": "70"}).stdout
    assert widest(narrow) <= 70 and len(narrow.splitlines()) > len(piped.splitlines())  # wrapped to fit


def test_the_gate_fits_120_columns_on_a_terminal_and_prints_whole_when_piped(tmp_path):
    db = tmp_path / "gate.duckdb"
    runs = [SyntheticRun(model, task, {"exact_match": [float(i % k == 0) for i in range(60)]},
                         filter="extract-choice", task_hash=task)
            for model, k in (("base", 1), ("cand", 3)) for task in (LONG_TASK, "reasoning_tracking_cot")]
    ids = write_runs(Store(db), runs)
    for name, chosen in (("base", ids[:2]), ("cand", ids[2:])):
        assert run_cli("tag", *chosen, name, "--db", str(db)).returncode == 0
    on_terminal = run_cli("gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), env=TERMINAL_120)
    piped = run_cli("gate", "--baseline", "base", "--candidate", "cand", "--db", str(db))
    assert on_terminal.returncode == piped.returncode == 1 and "FAIL" in piped.stdout
    assert widest(on_terminal.stdout) <= 120 < widest(piped.stdout)  # the long names wrap only on the terminal
    assert len(piped.stdout.splitlines()) == 4 and f"{LONG_TASK}  exact_match (extract-choice)" in piped.stdout


def _records(path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_tasks_show_kind_metrics_items_and_a_description():
    tasks = {t["name"]: t for t in cli_json("tasks", "--format", "json")}
    sentiment = tasks["finance_sentiment"]
    assert (sentiment["kind"], sentiment["runner"], sentiment["type"]) == ("task", "lm-eval", "multiple_choice")
    assert sentiment["metrics"] == ["acc", "acc_norm"] and sentiment["description"].endswith(".")
    assert sentiment["items"] == _records(tasks_dir() / "finance" / "sentiment_test.jsonl")
    finance = tasks["finance"]
    assert finance["kind"] == "group" and finance["items"] == sum(tasks[m]["items"] for m in finance["members"])
    assert tasks["finance_finqa"]["items"] is None  # its file is the user's to supply
    preference = tasks["preference_helpful_harmless"]
    assert (preference["runner"], preference["type"]) == ("harness", "preference")
    assert preference["items"] == _records(tasks_dir() / "preference" / "helpful_harmless.jsonl")
    assert "reward_margin" in preference["metrics"] and preference["description"]
    assert tasks["reasoning_date_cot"]["type"] == "generate_until" and tasks["reasoning_date_cot"]["description"]
    table = run_cli("tasks", "finance", env=TERMINAL_120).stdout
    assert widest(table) <= 120 and "lm-eval multiple_choice" in table and "acc, acc_norm" in table


def test_tasks_count_a_local_json_data_file(extra_tasks):
    (found,) = cli_json("tasks", "long_choices", "--include-path", str(extra_tasks), "--format", "json")
    assert found["items"] == _records(extra_tasks / "choices.jsonl") and found["metrics"] == ["acc", "acc_norm"]
