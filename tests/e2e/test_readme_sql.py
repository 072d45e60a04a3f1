"""The README's SQL examples, run exactly as written against a store filled by real runs through the CLI (and
synthetic Pythia checkpoints), give the answers of the harness's own leaderboard and compare."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs
from tests.helpers import REPO, cli_json

BOARD = """name: sql-check
title: SQL check
groups:
  - name: finance
    columns:
      - {task: finance_sentiment, metric: acc, direction: higher}
      - {task: finance_headline, metric: acc, direction: higher}
"""
STEPS = {1000: [0, 0, 0, 1], 64000: [1, 1, 0, 0], 143000: [1, 1, 1, 0]}


def readme_queries() -> list[str]:
    """The ```sql blocks of the README's "Where results go" section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Where results go\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """tiny-pythia on both finance tasks in full; tiny-llama-2 on headlines in full and on sentiment with --limit;
    three Pythia checkpoints (synthetic) on headlines. Returns the store, a leaderboard file and run ids."""
    root = tmp_path_factory.mktemp("readme-sql")
    db, board = root / "s.duckdb", root / "board.yaml"
    board.write_text(BOARD)
    common = ("--db", str(db), "--format", "json", "--quiet")
    pythia = cli_json("run", "--model", "tiny-pythia", "--task", "finance_sentiment,finance_headline", *common)
    llama = cli_json("run", "--model", "tiny-llama-2", "--task", "finance_headline", *common)
    cli_json("run", "--model", "tiny-llama-2", "--task", "finance_sentiment", "--limit", "8", *common)
    write_runs(Store(db), [SyntheticRun(f"pythia-70m@step{step}", "finance_headline", {"acc": values},
                                        revision=f"step{step}", family="pythia") for step, values in STEPS.items()])
    ids = {"pythia": next(r["run_id"] for r in pythia if r["task"] == "finance_headline"),
           "llama": llama[0]["run_id"]}
    return db, board, ids


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_readme_has_the_three_examples():
    leaderboard, steps, disagreement = readme_queries()
    assert "latest_runs" in leaderboard and "step" in steps and "sample_scores" in disagreement


def test_the_sql_leaderboard_ranks_as_the_harness_leaderboard(filled):
    db, board, _ = filled
    rows = _query(db, readme_queries()[0])
    records = [r for r in cli_json("leaderboard", str(board), "--format", "json", "--db", str(db))
               if r["score"] is not None]
    assert [row[:4] for row in rows] == [(r["model"], r["revision"], r["variant"], r["prompt_strategy"])
                                         for r in records] == [("tiny-pythia", None, None, None),
                                                               ("tiny-llama-2", None, None, None)]
    assert [row[4] for row in rows] == pytest.approx([r["score"] for r in records])
    assert [row[5] for row in rows] == [r["complete"] for r in records] == [True, False]


def test_the_sql_score_against_training_step_matches_the_leaderboard(filled):
    db, board, _ = filled
    rows = _query(db, readme_queries()[1])
    records = cli_json("leaderboard", str(board), "--format", "json", "--db", str(db))
    expected = sorted(((r["model"], r["revision"], int(r["revision"].removeprefix("step")), r["finance_headline/acc"])
                       for r in records if r["revision"]), key=lambda row: (row[0], row[2]))
    assert rows == expected
    assert [row[2] for row in rows] == sorted(STEPS) and [row[3] for row in rows] == [0.25, 0.5, 0.75]


def test_the_sql_disagreement_between_two_runs_matches_compare(filled):
    db, _, ids = filled
    sql = readme_queries()[2]
    for name, run_id in (("run_a", ids["pythia"]), ("run_b", ids["llama"])):
        sql, count = re.subn(rf"SET VARIABLE {name} = '[^']*'", f"SET VARIABLE {name} = '{run_id}'", sql)
        assert count == 1
    rows = _query(db, sql)
    assert rows and all(a != b for _, _, a, b, _ in rows)
    store = Store(db)
    a_samples, b_samples = ({s["doc_id"]: s for s in store.sample_rows(ids[key])} for key in ("pythia", "llama"))
    for comparison in cli_json("compare", ids["pythia"], ids["llama"], "--format", "json", "--db", str(db)):
        metric = comparison["metric"]
        found = [(doc, b - a) for doc, name, a, b, _ in rows if name == metric]
        assert sum(d for _, d in found) / comparison["n_pairs"] == pytest.approx(comparison["difference"])
        differing = {doc for doc, s in a_samples.items() if s["metrics"][metric] != b_samples[doc]["metrics"][metric]}
        assert {doc for doc, _ in found} == differing
        assert all(text == a_samples[doc]["input"] for doc, name, _, _, text in rows if name == metric)
