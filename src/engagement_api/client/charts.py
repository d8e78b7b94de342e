"""Charts of a result's series: in the terminal (rich) and as a PNG file (matplotlib, optional:
``pip install 'engagement-api[charts]'``, imported only when a PNG is asked for)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

#: metric -> [(bucket label, value)], buckets ascending.
Series = dict[str, list[tuple[str, int]]]

BAR_WIDTH = 40
AUTO_HOURLY_MAX = 72


def series_of(
    buckets: Mapping[str, Mapping[tuple[str, str | None], int]], interval: str = "auto"
) -> tuple[str, Series]:
    """Hourly or daily series from :meth:`Result.series` (``interval``: hour, day or auto:
    hourly when there are at most 72 hours). Returns the interval chosen and the series."""
    if interval not in ("auto", "hour", "day"):
        raise ValueError(f"interval must be auto, hour or day, not {interval!r}")
    longest = max((len(b) for b in buckets.values()), default=0)
    chosen = interval if interval != "auto" else ("hour" if longest <= AUTO_HOURLY_MAX else "day")
    out: Series = {}
    for metric, per_bucket in buckets.items():
        if chosen == "hour":
            out[metric] = [
                (f"{day} {hour}:00" if hour is not None else day, value)
                for (day, hour), value in per_bucket.items()
            ]
        else:
            daily: dict[str, int] = {}
            for (day, _), value in per_bucket.items():
                daily[day] = daily.get(day, 0) + value
            out[metric] = sorted(daily.items())
    return chosen, out


def terminal_chart(series: Series, interval: str) -> Group:
    """One table of bars per metric."""
    tables = []
    for metric, points in series.items():
        table = Table(title=f"{metric} per {interval}", show_edge=False, pad_edge=False)
        table.add_column(interval, no_wrap=True)
        table.add_column("", no_wrap=True)
        table.add_column("count", justify="right")
        peak = max((abs(v) for _, v in points), default=0) or 1
        for label, value in points:
            width = round(abs(value) / peak * BAR_WIDTH)
            bar = Text("█" * width, style="red" if value < 0 else "cyan")
            table.add_row(label, bar, str(value))
        tables.append(table)
    return Group(*tables)


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed."""


def png_chart(series: Series, interval: str, path: Path, title: str = "") -> None:
    """A line chart, one line per metric, written to ``path`` as PNG."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
    except ImportError as exc:
        raise ChartsUnavailable(
            "PNG charts need matplotlib: pip install 'engagement-api[charts]'"
        ) from exc
    matplotlib.use("Agg")
    pyplot: Any = importlib.import_module("matplotlib.pyplot")
    figure, axes = pyplot.subplots(figsize=(10, 4.5))
    try:
        for metric, points in series.items():
            axes.plot([label for label, _ in points], [v for _, v in points], label=metric)
        axes.set_xlabel(interval)
        axes.set_ylabel("count")
        if title:
            axes.set_title(title)
        axes.legend()
        labels = axes.get_xticklabels()
        step = max(1, len(labels) // 12)
        for index, label in enumerate(labels):
            label.set_visible(index % step == 0)
            label.set_rotation(45)
            label.set_horizontalalignment("right")
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
