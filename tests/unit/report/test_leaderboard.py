"""Leaderboard definitions, tables and the static site, through the CLI and the builders."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from harness.report.definitions import load_leaderboard
from harness.report.site import page_name, script_json
from harness.report.table import build_table
from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs
from tests.helpers import cli_json, run_cli

GOOD = """name: test-board
title: Test board
groups:
  - name: finance
    normalise: true
    columns:
      - {task: finance_sentiment, metric: acc, direction: higher, chance: 0.25}
      - {task: finance_headline, metric: acc, direction: higher, chance: 0.5}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "board.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("metric: acc, direction: higher, chance: 0.25", "metrik: acc, direction: higher"),
     "unknown key 'groups.0.columns.0.metrik' (did you mean 'metric'?)"),
    (GOOD.replace("finance_sentiment", "finance_sentimnt"),
     "unknown task 'finance_sentimnt' (did you mean 'finance_sentiment'"),
    (GOOD.replace("metric: acc, direction: higher, chance: 0.5", "metric: f1, direction: higher"),
     "task 'finance_headline' has no metric 'f1' (it has acc)"),
    (GOOD.replace("direction: higher, chance: 0.25", "direction: lower"),
     "needs both chance and perfect"),
    (GOOD.replace("direction: higher, chance: 0.25", "direction: up"), "groups.0.columns.0.direction"),
    (GOOD.replace("title: Test board\n", ""), "missing key 'title'"),
    (GOOD + "plots:\n  - {title: t, y: finanse}\n", "y 'finanse' is not one of"),
])
def test_bad_definitions_are_one_line_errors(tmp_path, text, message):
    proc = run_cli("leaderboard", str(_write(tmp_path, text)), "--db", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_the_shipped_definitions_load_and_are_listed():
    boards = cli_json("leaderboard", "--format", "json")
    assert "llm-2023" in {b["name"] for b in boards}
    board = load_leaderboard("llm-2023")
    assert {"llm-2023", "pythia", "vision", "segmentation", "video"} <= {b["name"] for b in boards}
    assert [g.name for g in board.groups] == ["finance", "reasoning", "factuality", "imitation", "preference"]
    assert [g.name for g in board.scored_groups] == ["finance", "reasoning", "factuality"]
    assert {"finance_sentiment", "finance_numeric", "finance_headline", "reasoning_arithmetic",
            "reasoning_navigate_cot", "factuality_misconceptions", "factuality_imitation_gap"} <= set(board.tasks)


def test_unknown_leaderboard_names_suggest_the_right_one():
    proc = run_cli("leaderboard", "llm-2024")
    assert proc.returncode == 2 and "did you mean 'llm-2023'" in proc.stderr


@pytest.fixture
def store(tmp_path):
    """Three models: one complete, one with a newer and an older run, one missing a task."""
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [
        SyntheticRun("alpha", "finance_sentiment", {"acc": [1, 1, 1, 0]}, family="pythia", parameters=70_000_000),
        SyntheticRun("alpha", "finance_headline", {"acc": [1, 1, 0, 0]}, family="pythia", parameters=70_000_000),
        SyntheticRun("beta", "finance_sentiment", {"acc": [0, 0, 0, 0]}, age_s=100),  # older: ignored
        SyntheticRun("beta", "finance_sentiment", {"acc": [1, 1, 1, 1]}),
        SyntheticRun("beta", "finance_headline", {"acc": [1, 1, 1, 0]}),
        SyntheticRun("gamma", "finance_sentiment", {"acc": [1, 0, 0, 0]}),
    ])
    return store


def test_rows_take_the_latest_run_and_normalise_between_chance_and_perfect(store, tmp_path):
    board = load_leaderboard(str(_write(tmp_path, GOOD)))
    table = build_table(board, store)
    assert [row.model for row in table.rows] == ["beta", "alpha", "gamma"]
    beta, alpha, gamma = table.rows
    assert beta.cells["finance_sentiment/acc"].value == 1.0
    # (1 - 0.25) / 0.75 = 1 and (0.75 - 0.5) / 0.5 = 0.5
    assert beta.groups["finance"] == pytest.approx(0.75) and beta.score == pytest.approx(0.75)
    # (0.75 - 0.25) / 0.75 and (0.5 - 0.5) / 0.5
    assert alpha.score == pytest.approx((2 / 3 + 0) / 2)
    assert gamma.score is None and "finance_headline/acc" not in gamma.cells  # missing: no partial average


def test_a_tag_selects_the_runs_that_count(store, tmp_path):
    board = load_leaderboard(str(_write(tmp_path, GOOD)))
    older = next(r for r in store.list_runs() if r["model"] == "beta" and r["task"] == "finance_sentiment"
                 and store.get_run(r["run_id"])["metrics"][0]["value"] == 0.0)
    store.tag([older["run_id"]], "frozen")
    table = build_table(board, store, tag="frozen")
    assert [row.model for row in table.rows] == ["beta"]
    assert table.rows[0].cells["finance_sentiment/acc"].value == 0.0


def test_prompt_strategies_get_rows_side_by_side_and_unscored_groups_stay_out(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [SyntheticRun("orca", "finance_sentiment", {"acc": [1, 1, 0, 0]}, prompt_strategy="direct"),
                       SyntheticRun("orca", "finance_sentiment", {"acc": [1, 1, 1, 1]}, prompt_strategy="step-by-step"),
                       SyntheticRun("orca", "finance_headline", {"acc": [0, 0, 0, 0]}, prompt_strategy="direct")])
    board = load_leaderboard(str(_write(tmp_path, GOOD.replace("      - {task: finance_headline", """  - name: shown
    score: false
    columns:
      - {task: finance_headline"""))))
    assert [g.name for g in board.scored_groups] == ["finance"]
    table = build_table(board, store)
    assert {row.label for row in table.rows} == {"orca [direct]", "orca [step-by-step]"}
    direct = next(row for row in table.rows if row.strategy == "direct")
    assert direct.score == pytest.approx((0.5 - 0.25) / 0.75) and "shown" not in direct.groups
    assert direct.cells["finance_headline/acc"].value == 0.0


def test_runs_no_strategy_changes_are_shared_by_every_strategy_row(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [
        SyntheticRun("orca", "finance_sentiment", {"acc": [1, 0, 1, 0]}, prompt_strategy="direct",
                     output_type="multiple_choice"),  # log-likelihood: the strategy changed nothing
        SyntheticRun("orca", "finance_headline", {"acc": [1, 1, 0, 0]}, prompt_strategy="direct"),
        SyntheticRun("orca", "finance_headline", {"acc": [1, 1, 1, 0]}, prompt_strategy="step-by-step")])
    table = build_table(load_leaderboard(str(_write(tmp_path, GOOD))), store)
    rows = {row.label: row for row in table.rows}
    assert set(rows) == {"orca [direct]", "orca [step-by-step]"}
    assert all(row.cells["finance_sentiment/acc"].value == 0.5 and row.score is not None for row in rows.values())
    assert rows["orca [step-by-step]"].cells["finance_headline/acc"].value == 0.75


def test_rows_without_an_overall_score_rank_by_their_groups(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [SyntheticRun("full", "finance_sentiment", {"acc": [0, 0, 0, 1]}),
                       SyntheticRun("full", "finance_headline", {"acc": [0, 0, 0, 1]}),
                       SyntheticRun("high", "finance_sentiment", {"acc": [1, 1, 1, 0]}),
                       SyntheticRun("low", "finance_sentiment", {"acc": [1, 0, 0, 0]})])
    two_groups = GOOD.replace("      - {task: finance_headline", """  - name: headline
    columns:
      - {task: finance_headline""")
    table = build_table(load_leaderboard(str(_write(tmp_path, two_groups))), store)
    assert [row.model for row in table.rows] == ["full", "high", "low"]
    assert table.rows[1].score is None and table.rows[1].groups["finance"] is not None


def test_markdown_and_csv_tables(store, tmp_path):
    path = _write(tmp_path, GOOD)
    proc = run_cli("leaderboard", str(path), "--format", "md", "--db", str(store.path))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert lines[0] == "| # | model | score | finance | memory (GiB) |"  # group scores; --wide adds the columns
    assert lines[1].startswith("| 1 | beta | 0.7500 | 0.7500 |") and "± " not in proc.stdout
    assert lines[3].startswith("| 3 | gamma | — | — |") and "2 task columns not shown: --wide" in proc.stdout
    wide = run_cli("leaderboard", str(path), "--format", "md", "--wide", "--db", str(store.path)).stdout
    lines = [line for line in wide.splitlines() if line.startswith("| ")]
    assert len(lines[0].split(" | ")) == 7 and lines[1].startswith("| 1 | beta | 0.7500 |") and "± " in lines[1]
    assert "not shown" not in wide
    proc = run_cli("leaderboard", str(path), "--format", "csv", "--db", str(store.path))
    records = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["model"] for r in records] == ["beta", "alpha", "gamma"]
    assert float(records[1]["finance_headline/acc"]) == 0.5 and records[2]["finance_headline/acc"] == ""
    assert float(records[0]["finance_sentiment/acc:stderr"]) == 0.0


def test_the_site_has_an_index_and_a_page_per_counted_run(store, tmp_path):
    out = tmp_path / "site"
    proc = run_cli("leaderboard", str(_write(tmp_path, GOOD)), "--out", str(out), "--db", str(store.path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "3 models, 5 run pages" in proc.stderr
    index = (out / "index.html").read_text()
    assert "<svg" in index and "http://" not in index.replace('xmlns="http://www.w3.org/2000/svg"', "")
    pages = sorted(p.name for p in (out / "runs").iterdir())
    assert len(pages) == 5 and all(f'href="runs/{name}"' in index for name in pages)
    # rebuilding replaces the folder it wrote
    assert run_cli("leaderboard", str(_write(tmp_path, GOOD)), "--out", str(out), "--db",
                   str(store.path)).returncode == 0


def test_the_site_never_overwrites_a_folder_it_did_not_write(store, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    proc = run_cli("leaderboard", str(_write(tmp_path, GOOD)), "--out", str(out), "--db", str(store.path))
    assert proc.returncode == 2 and "not a harness leaderboard folder" in proc.stderr
    assert (out / "notes.txt").read_text() == "keep me" and len(list(tmp_path.glob(".mine*"))) == 0


def test_page_names_and_embedded_json_cannot_break_out():
    assert page_name("20261126-105308-b5765c") == "20261126-105308-b5765c.html"
    for hostile in ("../../etc/passwd", "javascript:alert(1)", "a b", ".hidden"):
        assert page_name(hostile).startswith("run-") and "/" not in page_name(hostile)
    text = script_json({"x": "</script><script>alert(1)</script>\u2028"})
    assert "<" not in text and ">" not in text and json.loads(text)["x"].startswith("</script>")


def test_the_site_is_swapped_atomically_and_stale_builds_are_removed(store, tmp_path, monkeypatch):
    from harness.report.definitions import load_leaderboard
    from harness.report.site import MARKER, build_site
    from harness.report.table import build_table

    table = build_table(load_leaderboard(str(_write(tmp_path, GOOD))), store)
    out = tmp_path / "site"
    out.mkdir()  # a site an earlier version wrote: a real folder, converted once
    (out / MARKER).write_text("written by harness leaderboard\n")
    (out / "index.html").write_text("old")
    (tmp_path / ".site.k3yj2x").mkdir()  # what a killed build of an earlier version left
    build_site(table, store, out)
    assert out.is_symlink() and "<svg" in (out / "index.html").read_text()
    first = out.resolve()
    assert [p.name for p in tmp_path.glob(".site.*")] == [first.name]

    import harness.report.site as site

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the build dies just before the swap
    monkeypatch.setattr(site.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        build_site(table, store, out)
    assert out.resolve() == first and (out / "index.html").read_text().rstrip().endswith("</html>")
    monkeypatch.undo()
    (tmp_path / ".site.build-20260101-000000-dead").mkdir()  # a build killed harder, mid-write
    build_site(table, store, out)
    assert out.resolve() != first and not first.exists()
    assert [p.name for p in tmp_path.glob(".site.*")] == [out.resolve().name]


def test_limited_cells_are_marked_in_every_view_and_their_rows_rank_after_complete_ones(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [SyntheticRun("full", "finance_sentiment", {"acc": [1, 0, 0, 0]}),
                       SyntheticRun("full", "finance_headline", {"acc": [1, 0, 0, 0]}),
                       SyntheticRun("quick", "finance_sentiment", {"acc": [1, 1]}, limit=2),  # higher, but limited
                       SyntheticRun("quick", "finance_headline", {"acc": [1, 1, 1, 1]})])
    args = ("leaderboard", str(_write(tmp_path, GOOD)), "--db", str(store.path))
    records = cli_json(*args, "--format", "json")
    assert [(r["rank"], r["model"], r["complete"]) for r in records] == [(1, "full", True), (2, "quick", False)]
    quick = records[1]
    assert (quick["finance_sentiment/acc:n"], quick["finance_sentiment/acc:complete"]) == (2, False)
    assert (quick["finance_headline/acc:n"], quick["finance_headline/acc:complete"]) == (4, True)
    assert quick["score"] > records[0]["score"]  # ranked after all the same
    md = run_cli(*args, "--format", "md", "--wide").stdout
    full_line, quick_line = [line for line in md.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert "limited" not in full_line and "(n=4)" in full_line
    assert "(n=2, limited)" in quick_line and "(n=4)" in quick_line
    assert "not comparable with full runs" in md
    rows = list(csv.DictReader(io.StringIO(run_cli(*args, "--format", "csv").stdout)))
    assert [(r["model"], r["complete"], r["finance_sentiment/acc:complete"]) for r in rows] == [
        ("full", "True", "True"), ("quick", "False", "False")]
    assert run_cli(*args, "--out", str(tmp_path / "site")).returncode == 0
    index = (tmp_path / "site" / "index.html").read_text()
    assert index.count('class="num limited"') == 1 and 'id="limited-note"' in index and "n=2" in index
    assert index.index(">full<") < index.index(">quick<")


def test_a_board_of_complete_runs_has_no_limited_marks(store, tmp_path):
    md = run_cli("leaderboard", str(_write(tmp_path, GOOD)), "--format", "md", "--wide", "--db",
                 str(store.path)).stdout
    assert "limited" not in md and "(n=4)" in md
    assert all(r["complete"] for r in cli_json("leaderboard", str(_write(tmp_path, GOOD)), "--format", "json",
                                                "--db", str(store.path)))


def test_throughput_charts_plot_measured_runs_only(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [SyntheticRun(model, task, {"acc": [1, 0]}, samples_per_s=10.0, cached=model == "replayed")
                       for model in ("measured", "replayed") for task in ("finance_sentiment", "finance_headline")])
    board = GOOD + "plots:\n  - {title: Finance against speed, y: finance, x: samples_per_s}\n"
    table = build_table(load_leaderboard(str(_write(tmp_path, board))), store)
    speeds = {row.model: row.samples_per_s for row in table.rows}
    assert speeds == {"measured": pytest.approx(10.0), "replayed": None}
    out = tmp_path / "site"
    assert run_cli("leaderboard", str(_write(tmp_path, board)), "--out", str(out), "--db",
                   str(store.path)).returncode == 0
    chart = (out / "index.html").read_text().split("Finance against speed", 1)[1]
    assert "<title>measured: " in chart and "replayed" not in chart.split("</svg>")[0]


def test_the_group_view_marks_groups_with_limited_cells_and_wide_needs_md(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    write_runs(store, [SyntheticRun("full", "finance_sentiment", {"acc": [1, 0, 0, 0]}),
                       SyntheticRun("full", "finance_headline", {"acc": [1, 0, 0, 0]}),
                       SyntheticRun("quick", "finance_sentiment", {"acc": [1, 1]}, limit=2),
                       SyntheticRun("quick", "finance_headline", {"acc": [1, 1, 1, 1]})])
    args = ("leaderboard", str(_write(tmp_path, GOOD)), "--db", str(store.path))
    md = run_cli(*args).stdout  # md is the default without --out
    rows = {line.split(" | ")[1]: line for line in md.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")}
    assert "(limited)" in rows["quick"] and "limited" not in rows["full"] and "(n=" not in md
    for extra in (["--format", "csv"], ["--format", "json"], ["--out", str(tmp_path / "site")]):
        proc = run_cli(*args, "--wide", *extra)
        assert proc.returncode == 2 and "--wide shows every task column" in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1 and not (tmp_path / "site").exists()
