"""Terminal tables: fitted to a width on a terminal (no line longer), natural width elsewhere, cells as plain text."""

from __future__ import annotations

import io

import pytest

from harness.console import Col, compact, is_terminal, render_table, table_width

RUN_ID = "20261129-015408-549f82"


def _rows(count: int = 3) -> list[list[str]]:
    return [[f"{RUN_ID[:-1]}{i}", "finished", f"a-model-with-a-rather-long-name-{i}@step143000",
             "reasoning_logical_deduction_cot", str(120 * i), "a note that goes on about what happened, " * 2 + "and then some"]
            for i in range(count)]


COLUMNS = [Col("run", wrap=False), Col("status", wrap=False), "model", "task", Col("n", wrap=False, right=True),
           "note"]


@pytest.mark.parametrize("width", [120, 100, 80])
def test_a_wide_table_fits_the_width_and_keeps_ids_whole(width):
    natural = render_table(_rows(), COLUMNS)
    assert max(len(line) for line in natural.splitlines()) > width  # the case under test: it must give way
    fitted = render_table(_rows(), COLUMNS, width=width)
    assert max(len(line) for line in fitted.splitlines()) <= width
    for i in range(3):
        assert f"{RUN_ID[:-1]}{i}" in fitted  # a column that does not wrap keeps its cells on one line
    assert "reasoning" in fitted and len(fitted.splitlines()) > len(natural.splitlines())  # the others wrap


def test_without_a_width_every_row_is_one_line_at_natural_width_in_the_same_look():
    rows = _rows()
    text = render_table(rows, COLUMNS)
    assert render_table(rows, COLUMNS, width=1000) == text  # rich, given room, lays it out the same
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)  # header, rule, one line per row
    assert lines[0].split() == ["run", "status", "model", "task", "n", "note"] and set(lines[1]) == {"-"}
    assert all(line == line.rstrip() for line in lines)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(COLUMNS))]
    assert len(lines[1]) == sum(widths) + 2 * (len(widths) - 1)  # two spaces between columns
    assert lines[2].split("  ")[0] == rows[0][0]


def test_numbers_align_right_and_cells_are_not_markup():
    text = render_table([["[bold]x[/bold]", "7"], [":smile:", "1234"]], ["name", Col("n", wrap=False, right=True)])
    lines = text.splitlines()
    assert lines[2] == "[bold]x[/bold]     7" and lines[3] == ":smile:         1234"
    assert "\x1b" not in text


def test_terminal_detection_and_width(monkeypatch):
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    pipe = io.StringIO()
    assert not is_terminal(pipe) and table_width(pipe) is None
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "97")
    assert is_terminal(pipe) and table_width(pipe) == 97
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert table_width(pipe) is None


@pytest.mark.parametrize("count, text", [(None, ""), (7, "7"), (54_584, "54.6K"), (999_600, "1M"),
                                         (70_426_624, "70.4M"), (1_011_781_632, "1.01B")])
def test_compact_counts(count, text):
    assert compact(count) == text
