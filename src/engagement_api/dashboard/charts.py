"""Bar charts as SVG, drawn on the server: no script, nothing fetched, readable without colour.

Each series of a stacked chart has a colour *and* a pattern (solid, stripes, dots, cross-hatch,
...), shown in the legend beside its name; every bar segment carries a ``<title>`` with its
bucket, series and count (a tooltip, and what a screen reader reads); the chart as a whole has
a title and a description, and the page prints the same numbers in a table. Only presentation
attributes are used (no ``style``), so the pages' Content-Security-Policy needs no
``unsafe-inline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 260
LEFT = 56  # room for the y axis' labels
RIGHT = 8
TOP = 12
BOTTOM = 44  # room for the x axis' labels
LEGEND_ROW = 20


@dataclass(frozen=True, slots=True)
class Look:
    colour: str
    pattern: str  # what is drawn over the colour, in white: "" for a plain fill


#: Colour-blind-safe colours (Okabe & Ito's palette), each with a pattern of its own.
LOOKS = (
    Look("#0072B2", ""),
    Look("#D55E00", "M0 8 L8 0"),  # stripes
    Look("#009E73", "dots"),
    Look("#CC79A7", "M0 0 L8 8 M0 8 L8 0"),  # cross-hatch
    Look("#E69F00", "M0 4 L8 4"),  # horizontal lines
    Look("#56B4E9", "M4 0 L4 8"),  # vertical lines
)


def _defs(chart_id: str, count: int) -> str:
    parts = []
    for i in range(count):
        look = LOOKS[i % len(LOOKS)]
        if look.pattern == "dots":
            mark = '<circle cx="4" cy="4" r="1.6" fill="#fff"/>'
        elif look.pattern:
            mark = f'<path d="{look.pattern}" stroke="#fff" stroke-width="1.5"/>'
        else:
            mark = ""
        parts.append(
            f'<pattern id="{chart_id}-p{i}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{look.colour}"/>{mark}</pattern>'
        )
    return "<defs>" + "".join(parts) + "</defs>"


def _nice_top(value: int) -> int:
    """The top of the y axis: 4 equal steps of a round whole number (1, 2, 3, 4, 5, 6 or 8 x
    10^k), the smallest whose top is at or above ``value`` (at least 4)."""
    wanted = max(1, -(-value // 4))
    step = 1
    while True:
        for factor in (1, 2, 3, 4, 5, 6, 8):
            if step * factor >= wanted:
                return 4 * step * factor
        step *= 10


def _short(n: int) -> str:
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            text = f"{n / size:.1f}".removesuffix(".0")
            return text + suffix
    return str(n)


def bar_chart(
    chart_id: str,
    title: str,
    buckets: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
) -> Markup:
    """A bar per bucket, its series stacked in order (a single series: plain bars, no legend);
    ``chart_id`` makes the patterns' IDs unique on the page."""
    legend_rows = (len(series) + 2) // 3 if len(series) > 1 else 0
    height = HEIGHT + legend_rows * LEGEND_ROW
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    totals = [sum(values[i] for _, values in series) for i in range(len(buckets))]
    top = _nice_top(max(totals, default=0))
    slot = plot_w / max(1, len(buckets))
    bar = max(1.0, slot * 0.8)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(_description(buckets, series, totals))}</desc>',
        _defs(chart_id, len(series)),
    ]
    for step in range(5):  # the y axis: 0, 1/4, ... of the top, with grid lines
        value = top * step // 4
        y = TOP + plot_h - plot_h * step / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#222">{_short(value)}</text>'
        )
    every = max(1, len(buckets) // 8)
    for i, bucket in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar) / 2
        base = float(TOP + plot_h)
        for s, (name, values) in enumerate(series):
            count = values[i]
            if count <= 0:
                continue
            h = plot_h * count / top
            base -= h
            tip = f"{bucket}: {name} {count:,}"
            out.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="url(#{chart_id}-p{s})" stroke="#222" stroke-width="0.5">'
                f"<title>{escape(tip)}</title></rect>"
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#222">{escape(_axis_label(bucket))}</text>'
            )
    if legend_rows:
        for s, (name, _) in enumerate(series):
            row, col = divmod(s, 3)
            x = LEFT + col * (plot_w / 3)
            y = HEIGHT + row * LEGEND_ROW - 8
            out.append(
                f'<rect x="{x:.1f}" y="{y - 11}" width="14" height="14" '
                f'fill="url(#{chart_id}-p{s})" stroke="#222" stroke-width="0.5"/>'
                f'<text x="{x + 20:.1f}" y="{y}" font-size="13" fill="#222">'
                f"{escape(name)}</text>"
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every value above is escaped or ours)


def _axis_label(bucket: str) -> str:
    """``2026-11-26`` -> ``11-26``; ``2026-11-26T13`` -> ``13h``; ``2026-11-26T13:05Z`` ->
    ``13:05``."""
    if "T" not in bucket:
        return bucket[5:]
    time = bucket.split("T", 1)[1]
    return time.removesuffix("Z") if ":" in time else time + "h"


def _description(
    buckets: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], totals: Sequence[int]
) -> str:
    if not buckets:
        return "No data."
    names = ", ".join(name for name, _ in series)
    peak = max(range(len(buckets)), key=lambda i: totals[i])
    return (
        f"{len(buckets)} bars from {buckets[0]} to {buckets[-1]}, stacked: {names}. "
        f"Total {sum(totals):,}; highest {totals[peak]:,} at {buckets[peak]}."
    )
