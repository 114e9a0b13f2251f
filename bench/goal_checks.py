"""Issue 16's goals as checks on one row of the goals table.

Kept apart from the measuring so the thresholds are read in one place and
can be unit-tested without starting a server. A figure that was not measured
(``None``) neither meets nor misses its goal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

IDEAL_FACTOR = 1.25

# Column name -> (goal label, test on the measured value, given the ideal stream time in seconds).
GOALS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "open CPU ms/req": ("open<=0.5ms", lambda value, _: value <= 0.5),
    "added TTFT ms": ("addedTTFT<=0.8ms", lambda value, _: value <= 0.8),
    "burst TTFT p50 ms": ("burst<=60ms", lambda value, _: value <= 60),
    "stream p50 s": ("stream<=1.25x", lambda value, ideal: value <= IDEAL_FACTOR * ideal),
    "gap p99 ms": ("gap<100ms", lambda value, _: value < 100),
    "errors": ("0 errors", lambda value, _: value == 0),
    "peak RSS MiB": ("RSS<=200MB", lambda value, _: value <= 200),
    "relay µs/chunk": ("chunk<=20µs", lambda value, _: value <= 20),
    "saturation chunks/s": ("sat>=60k", lambda value, _: value >= 60_000),
}


def missed(figures: Mapping[str, object], ideal_seconds: float) -> list[str]:
    """The labels of the goals this row's figures miss, in table order."""
    labels = []
    for column, (label, meets) in GOALS.items():
        value = figures.get(column)
        if isinstance(value, int | float) and not meets(float(value), ideal_seconds):
            labels.append(label)
    return labels
