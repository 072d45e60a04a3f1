"""The regression gate's decision and its reports for CI systems (Markdown and JUnit XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.gate.compare import Comparison


@dataclass(frozen=True)
class Check:
    """One metric's verdict: ``fail`` when it dropped by more than ``max_drop`` and the drop is significant."""

    comparison: Comparison
    verdict: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready row."""
        return self.comparison.as_dict() | {"verdict": self.verdict, "reason": self.reason}


def judge(comparisons: list[Comparison], max_drop: float, alpha: float) -> list[Check]:
    """Apply the gate: a drop beyond ``max_drop`` fails when its paired test rejects at ``alpha``.

    A metric without a paired test (no per-sample values, or not a per-sample mean) fails on any drop
    beyond ``max_drop``: without a test, a drop cannot be called noise.
    """
    checks = []
    for c in comparisons:
        p, drop = (c.test.p_value if c.test else None), c.drop + 0.0  # + 0.0 turns -0.0 into 0.0
        if drop <= max_drop:
            verdict, reason = "pass", f"drop {drop:+.4f} within {max_drop:g}"
        elif p is None:
            verdict, reason = "fail", f"drop {drop:+.4f} beyond {max_drop:g} ({c.note})"
        elif p < alpha:
            verdict, reason = "fail", f"drop {drop:+.4f} beyond {max_drop:g}, significant (p={p:.3g} < {alpha:g})"
        else:
            verdict, reason = "pass", f"drop {drop:+.4f} beyond {max_drop:g} but not significant " \
                                      f"(p={p:.3g} ≥ {alpha:g})"
        checks.append(Check(c, verdict, reason))
    return checks


COMPARISON_HEADER = ["task", "metric", "baseline", "candidate", "diff", "95% CI", "p", "test"]
TABLE_HEADER = [*COMPARISON_HEADER, "verdict"]


def comparison_cells(c: Comparison) -> list[str]:
    """Text cells for one comparison: task, metric, baseline, candidate, difference, CI, p, test."""
    t = c.test
    return [c.task, c.metric if c.filter == "none" else f"{c.metric} ({c.filter})", f"{c.baseline:.4f}",
            f"{c.candidate:.4f}", f"{c.difference:+.4f}", f"[{t.ci_low:+.4f}, {t.ci_high:+.4f}]" if t else "",
            f"{t.p_value:.3g}" if t else "", t.test if t else "none"]


def table_rows(checks: list[Check]) -> list[list[str]]:
    """Rows for a text or Markdown table: the comparison's cells and the verdict."""
    return [[*comparison_cells(check.comparison), check.verdict.upper()] for check in checks]


def markdown(checks: list[Check], title: str) -> str:
    """A Markdown summary for pull-request comments and CI job summaries."""
    failed = sum(check.verdict == "fail" for check in checks)
    head = f"### {title}: {'FAILED' if failed else 'passed'} ({failed} of {len(checks)} metrics failed)\n\n"
    escape = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;"})
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(cell.translate(escape) for cell in row) + " |" for row in table_rows(checks)]
    return head + "\n".join(lines) + "\n"


def junit(checks: list[Check], title: str) -> str:
    """JUnit XML: one test case per task and metric, a failure element for each failing one."""
    suite = ET.Element("testsuite", name=title, tests=str(len(checks)),
                       failures=str(sum(check.verdict == "fail" for check in checks)), errors="0", skipped="0")
    for check in checks:
        c = check.comparison
        case = ET.SubElement(suite, "testcase", classname=c.task, name=f"{c.metric},{c.filter}")
        if check.verdict == "fail":
            ET.SubElement(case, "failure", message=check.reason, type="regression").text = \
                f"baseline {c.baseline:.6g}, candidate {c.candidate:.6g}: {check.reason}"
        else:
            ET.SubElement(case, "system-out").text = check.reason
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_report(text: str, path: str | Path) -> None:
    """Write a report file, creating its folder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")



def gate(baseline: str, candidate: str, store: Any, *, leaderboard: str | None, include_path: list[str] | None,
         max_drop: float, alpha: float, force: bool) -> list[Check]:
    """The regression gate over two references (see ``harness.api.gate``): one ``Check`` per task and metric."""
    from harness.errors import HarnessError
    from harness.gate.compare import compare_runs
    from harness.gate.outcomes import load_ref

    if max_drop < 0:
        raise HarnessError(f"--max-drop {max_drop:g} must be 0 or more (an absolute drop in the metric's units)")
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha:g} must be between 0 and 1")
    only = None
    if leaderboard is not None:
        from harness.report.definitions import load_leaderboard

        only = {(c.task, c.metric) for c in load_leaderboard(leaderboard, include_paths=include_path).columns}
    comparisons = compare_runs(load_ref(baseline, store), load_ref(candidate, store), force=force, only=only)
    if not comparisons:
        raise HarnessError("nothing to compare: the baseline has no numeric metric"
                           + (f" among leaderboard {leaderboard}'s columns" if leaderboard else ""))
    return judge(comparisons, max_drop, alpha)
