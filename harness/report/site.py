"""The static leaderboard site: an index page with the sortable table and charts, and one page per run.

Pages are self-contained (styles and script inlined, charts as inline SVG), work from ``file://`` with the
network off, and carry a Content-Security-Policy that allows only the page's own script and no requests.
Every stored string reaches the page escaped: templates autoescape, samples travel as JSON that the page
script inserts with ``textContent``.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from harness.version import __version__
from harness.errors import HarnessError
from harness.report.charts import line_chart
from harness.report.missing import column_gap, group_gap, score_gap
from harness.report.readable import flatten, readable
from harness.report.samples import requests_of, run_samples
from harness.report.table import Row, Table
from harness.store import Store

MARKER = ".harness-site"
PAGE_SIZE = 50
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
_AXIS_LABELS = {"parameters": "parameters", "training_step": "training step", "samples_per_s": "samples per second",
                "peak_memory_gb": "peak memory (GiB)"}


def page_name(run_id: str) -> str:
    """A file name for a run's page that no stored id can turn into a path or a URL scheme."""
    if _SAFE_ID.match(run_id) and not run_id.startswith("."):
        return f"{run_id}.html"
    return f"run-{hashlib.sha256(run_id.encode()).hexdigest()[:16]}.html"


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _environment() -> Any:
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.PackageLoader("harness.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["score"] = lambda v: "" if v is None else f"{v:.4f}"
    env.filters["sortkey"] = lambda v: "" if v is None else repr(float(v))
    env.filters["human"] = lambda v: "" if v is None else (f"{v / 1e9:.1f}B" if v >= 1e9 else f"{v / 1e6:.1f}M"
                                                          if v >= 1e6 else f"{v:,}")
    env.filters["readable"] = lambda v: "" if v is None else readable(v)
    env.filters["flatten"] = lambda v: flatten(v or {})
    env.globals.update(column_gap=column_gap, group_gap=group_gap, score_gap=score_gap)
    env.filters["script_json"] = lambda v: Markup(script_json(v))
    return env


def _chart_rows(table: Table, x: str) -> list[Row]:
    """Rows a chart plots: every revision against training step; elsewhere each model's final checkpoint."""
    if x == "training_step":
        return table.rows
    final: dict[tuple[str, str | None], Row] = {}
    for row in table.rows:
        best = final.get((row.model, row.strategy))
        if best is None or (row.training_step or 0) > (best.training_step or 0):
            final[(row.model, row.strategy)] = row
    return list(final.values())


def _charts(table: Table) -> tuple[list[str], list[str]]:
    """The SVG charts with data, and the titles of those without."""
    board, charts, skipped = table.board, [], []
    titles = {g.name: g.title or g.name for g in board.scored_groups} | {c.id: c.title for c in board.columns}
    for plot in board.default_plots():
        series: dict[str, list[tuple[float, float, str]]] = {}
        for row in _chart_rows(table, plot.x):
            x, y = row.axis(plot.x), row.axis(plot.y)
            if x is not None and y is not None:
                name = row.family if plot.series == "family" else row.label.replace(f"@{row.revision}", "")
                series.setdefault(name, []).append((float(x), float(y), row.label))
        svg = line_chart(series, title=plot.title, x_label=_AXIS_LABELS.get(plot.x, titles.get(plot.x, plot.x)),
                         y_label=titles.get(plot.y, plot.y), log_x=plot.log_x,
                         connect=plot.x in ("parameters", "training_step")) if series else ""
        (charts if svg else skipped).append(svg or plot.title)
    return charts, skipped


def _publish(built: Path, out: Path) -> None:
    """Point ``out`` at the finished build in one step: ``out`` is a symlink to a versioned build folder,
    swapped with ``os.replace``, so at every instant it shows the whole old site or the whole new one. A real
    folder left by an earlier version is moved aside and converted once. Builds nothing points to any more
    (the previous one, or those of killed builds) are removed."""
    if out.is_dir() and not out.is_symlink():
        kept = out.with_name(f".{out.name}.build-converted-{uuid.uuid4().hex[:8]}")
        out.rename(kept)
        out.symlink_to(kept.name)
    link = out.with_name(f".{out.name}.link-{uuid.uuid4().hex[:8]}")
    link.symlink_to(built.name)
    os.replace(link, out)
    for stale in out.parent.glob(f".{glob.escape(out.name)}.*"):
        if stale.name != built.name:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def build_site(table: Table, store: Store, out: Path) -> dict[str, Any]:
    """Write ``out/index.html`` and ``out/runs/*.html``; returns what was written."""
    out = out.parent.resolve() / out.name  # the link itself, not the build it points to
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise HarnessError(f"--out {out} exists and is not a harness leaderboard folder; choose a new or empty "
                           "folder (the harness replaces only folders it wrote)")
    out.parent.mkdir(parents=True, exist_ok=True)
    env = _environment()
    folder = resources.files("harness.report").joinpath("templates")
    js, css = folder.joinpath("site.js").read_text("utf-8"), folder.joinpath("site.css").read_text("utf-8")
    common = {"js": js, "css": css, "board": table.board, "store_name": store.path.name,
              "script_hash": "sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode(),
              "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "harness_version": __version__}
    pages = {run_id: page_name(run_id) for run_id in table.run_ids}
    runs = {run["run_id"]: run for row in table.rows for run in row.runs}
    built = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-",
                                  dir=out.parent))
    try:
        (built / "runs").mkdir()
        charts, skipped = _charts(table)
        index = env.get_template("index.html.j2").render(table=table, pages=pages, charts=charts,
                                                         skipped_charts=skipped, **common)
        (built / "index.html").write_text(index, encoding="utf-8")
        run_template = env.get_template("run.html.j2")
        samples, requests = store.samples_of(list(pages)), requests_of(store, list(pages))
        for run_id, name in pages.items():
            page = run_template.render(run=runs[run_id], page_size=PAGE_SIZE,
                                       **run_samples(runs[run_id], samples[run_id], requests), **common)
            (built / "runs" / name).write_text(page, encoding="utf-8")
        (built / MARKER).write_text("written by harness leaderboard\n", encoding="utf-8")
        built.chmod(0o755)
        _publish(built, out)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    return {"out": str(out), "index": str(out / "index.html"), "models": len(table.rows), "run_pages": len(pages),
            "charts": len(charts)}

