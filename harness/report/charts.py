"""Inline SVG line charts, drawn without a chart library so pages render offline.

Every piece of text is XML-escaped; points carry a ``<title>`` tooltip.
"""

from __future__ import annotations

import math
import textwrap
from html import escape

WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 30, 45
TITLE_CHARS, TITLE_LINE = 56, 16  # a title wraps at about the plot's width, never truncated; pixels per line
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22"]

Series = dict[str, list[tuple[float, float, str]]]  # name -> [(x, y, point label)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    return [round(first + i * step, 12) for i in range(int(math.ceil((high - first) / step)) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def _label(value: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def line_chart(series: Series, *, title: str, x_label: str, y_label: str, log_x: bool = False,
               connect: bool = True) -> str:
    """An SVG chart of coloured points per series, joined by a line in x order when ``connect``."""
    points = [(x, y) for pts in series.values() for x, y, _ in pts if not log_x or x > 0]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_ticks = _log_ticks(min(xs), max(xs)) if log_x else nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        if log_x:
            return LEFT + plot_w * (math.log10(x) - math.log10(x0)) / max(math.log10(x1) - math.log10(x0), 1e-12)
        return LEFT + plot_w * (x - x0) / max(x1 - x0, 1e-12)

    def sy(y: float) -> float:
        return TOP + plot_h * (1 - (y - y0) / max(y1 - y0, 1e-12))

    lines = textwrap.wrap(title, TITLE_CHARS) or [title]
    extra = TITLE_LINE * (len(lines) - 1)  # the plot moves down by the title's extra lines
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
             f'height="{HEIGHT + extra}" viewBox="0 0 {WIDTH} {HEIGHT + extra}"><title>{escape(title)}</title>',
             f'<text x="{LEFT}" y="18" class="chart-title">'
             + "".join(f'<tspan x="{LEFT}" dy="{TITLE_LINE if i else 0}">{escape(line)}</tspan>'
                       for i, line in enumerate(lines)) + f'</text><g transform="translate(0 {extra})">']
    for tick in x_ticks:
        parts.append(f'<line x1="{sx(tick):.1f}" y1="{TOP}" x2="{sx(tick):.1f}" y2="{TOP + plot_h}" class="grid"/>'
                     f'<text x="{sx(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_label(tick)}</text>')
    for tick in y_ticks:
        parts.append(f'<line x1="{LEFT}" y1="{sy(tick):.1f}" x2="{LEFT + plot_w}" y2="{sy(tick):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>'
                 f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>')
    for index, (name, pts) in enumerate(sorted(series.items())):
        color = PALETTE[index % len(PALETTE)]
        pts = sorted(p for p in pts if not log_x or p[0] > 0)
        if connect and len(pts) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        for x, y, label in pts:
            parts.append(f'<circle class="point" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{color}">'
                         f'<title>{escape(label)}: {y:.4f}</title></circle>')
        legend_y = TOP + 14 * index
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{WIDTH - RIGHT + 26}" y="{legend_y + 9}" class="legend">{escape(name[:22])}</text>')
    parts.append("</g></svg>")
    return "".join(parts)
