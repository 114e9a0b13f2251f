"""Wait for a quiet machine before measuring, and say how quiet it was.

The benchmark machine is shared: other jobs' CPU shows up as longer gaps and
slower opens in ours. A run therefore waits (for a bounded time) until the
machine's cores are nearly idle, then records how busy they were and the
one-minute load average, so a reader can tell a noisy row from a slow relay.
Busy cores are sampled over one second from /proc/stat rather than read from
the load average, which still remembers the previous row's own load for a
minute after it ended.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Quiet:
    """The threshold in busy cores and the longest wait; ``RELAY_BENCH_MAX_BUSY`` and ``RELAY_BENCH_QUIET_WAIT_S``."""

    max_busy: float = 0.3
    max_wait_seconds: float = 120.0

    @classmethod
    def from_env(cls) -> Quiet:
        return cls(
            float(os.environ.get("RELAY_BENCH_MAX_BUSY", cls.max_busy)),
            float(os.environ.get("RELAY_BENCH_QUIET_WAIT_S", cls.max_wait_seconds)),
        )


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over every core since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_cores(sample_seconds: float = 1.0) -> float:
    """How many cores' worth of CPU the whole machine used over the next ``sample_seconds``."""
    busy_before, total_before = _cpu_times()
    time.sleep(sample_seconds)
    busy_after, total_after = _cpu_times()
    share = (busy_after - busy_before) / max(1, total_after - total_before)
    return share * (os.cpu_count() or 1)


def wait_until_quiet(
    quiet: Quiet,
    busy: Callable[[], float] = busy_cores,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 4.0,
) -> dict[str, float]:
    """Block until ``busy()`` is below the threshold or the wait is used up; the busy cores and load average then."""
    waited = 0.0
    current = busy()
    while current >= quiet.max_busy and waited < quiet.max_wait_seconds:
        step = min(poll_seconds, quiet.max_wait_seconds - waited)
        sleep(step)
        waited += step
        current = busy()
    return {"busy cores": round(current, 2), "load": round(os.getloadavg()[0], 2), "waited s": round(waited)}
