"""Timing helpers: percentiles of repeated runs, rates, interleaved A/B measurement."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100): with 50 runs, p99 is the slowest run."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    """Seconds per run."""

    runs: tuple[float, ...]

    @property
    def p50(self) -> float:
        return percentile(self.runs, 50)

    @property
    def p99(self) -> float:
        return percentile(self.runs, 99)

    def as_json(self) -> dict[str, float | int | list[float]]:
        return {
            "runs": len(self.runs),
            "p50_ms": self.p50 * 1e3,
            "p99_ms": self.p99 * 1e3,
            "min_ms": min(self.runs) * 1e3,
            "mean_ms": sum(self.runs) / len(self.runs) * 1e3,
            "runs_ms": [round(r * 1e3, 3) for r in self.runs],
        }


def timed(func: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def interleaved(
    ours: Callable[[bytes], object],
    baseline: Callable[[bytes], object],
    bodies: Sequence[bytes],
    runs: int,
) -> tuple[Latency, Latency]:
    """Time ``runs`` calls of each, alternating which goes first, cycling through ``bodies``,
    so that the machine's noise falls on both alike."""
    mine: list[float] = []
    theirs: list[float] = []
    gc.collect()
    for i in range(runs):
        body = bodies[i % len(bodies)]
        if i % 2 == 0:
            mine.append(timed(ours, body)[0])
            theirs.append(timed(baseline, body)[0])
        else:
            theirs.append(timed(baseline, body)[0])
            mine.append(timed(ours, body)[0])
    return Latency(tuple(mine)), Latency(tuple(theirs))
