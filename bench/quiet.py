"""Wait for a quiet machine before measuring, and say how quiet it was.

The benchmark machine is shared: other jobs' CPU shows up as longer gaps and
slower opens in ours. A run therefore waits (for a bounded time) until the
one-minute load average drops below a threshold, then records the load it
started at, so a reader can tell a noisy row from a slow relay.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Quiet:
    """The threshold and the longest wait; ``RELAY_BENCH_MAX_LOAD`` and ``RELAY_BENCH_QUIET_WAIT_S`` override."""

    max_load: float = 1.0
    max_wait_seconds: float = 120.0

    @classmethod
    def from_env(cls) -> Quiet:
        return cls(
            float(os.environ.get("RELAY_BENCH_MAX_LOAD", cls.max_load)),
            float(os.environ.get("RELAY_BENCH_QUIET_WAIT_S", cls.max_wait_seconds)),
        )


def wait_until_quiet(
    quiet: Quiet,
    load: Callable[[], float] = lambda: os.getloadavg()[0],
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 5.0,
) -> float:
    """Block until ``load()`` is below the threshold or the wait is used up; return the load measured at the start."""
    waited = 0.0
    current = load()
    while current >= quiet.max_load and waited < quiet.max_wait_seconds:
        step = min(poll_seconds, quiet.max_wait_seconds - waited)
        sleep(step)
        waited += step
        current = load()
    return round(current, 2)
