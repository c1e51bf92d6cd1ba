"""A bar chart as inline SVG: pure, no script, readable without colour (each bar has a title)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 170
# Room for the value axis on the left and the time labels below.
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24


@dataclass(frozen=True)
class Bar:
    """One bar: its value (None: no bar, as for a minute with nothing to rate) and labels."""

    value: float | None
    label: str
    title: str


def nice_ceiling(value: float) -> float:
    """Return a round axis top at or above `value`: 1, 2, 2.5, 5 or 10 times a power of ten (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return f"{value:g}"


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    unit: str = "",
    top: float | None = None,
    empty_text: str = "nothing yet",
) -> str:
    """
    Return an `<svg>` bar chart of `bars`, left to right.

    Bars are `<rect class="bar">` with `data-label` and `data-value`, and a
    `<title>` each (a tooltip, and read by screen readers).  The value axis
    runs from 0 to `top` (default: a round number above the highest bar),
    with its top and middle marked; the first, middle and last bars' labels
    are written below.

    Args:
        bars: the bars in order.
        chart_id: the element id (also prefixes the title's id).
        title: the accessible name of the chart.
        unit: appended to the axis figures ("%").
        top: the axis maximum.
        empty_text: written across the chart when no bar has a value above 0.
    """
    values = [b.value for b in bars if b.value is not None]
    axis_top = top if top is not None else nice_ceiling(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(bars))
    gap = 1.0 if step > 4 else 0.0
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(axis_top * frac))}{escape(unit)}</text>"
        )
    for i, bar in enumerate(bars):
        if bar.value is None or bar.value <= 0:
            continue
        h = plot_h * min(bar.value, axis_top) / axis_top
        x = LEFT + i * step + gap / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(0.5, step - gap):.1f}" '
            f'height="{h:.1f}" data-label="{escape(bar.label)}" data-value="{escape(_fmt(bar.value))}">'
            f"<title>{escape(bar.title)}</title></rect>"
        )
    if not any(v > 0 for v in values):
        parts.append(
            f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
            f'text-anchor="middle">{escape(empty_text)}</text>'
        )
    for i, anchor in ((0, "start"), (len(bars) // 2, "middle"), (len(bars) - 1, "end")):
        if 0 <= i < len(bars):
            x = LEFT + (i + 0.5) * step
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                f"{escape(bars[i].label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
