"""The ``Server-Timing`` header: the relay's own time apart from the upstream's.

A browser's devtools show these next to the request, so a user can tell
relay overhead from model latency without access to the relay's telemetry:

* ``relay``: from the request's arrival to the first upstream call
  (authentication, body, validation, quotas, routing);
* ``failed``: time spent on backends that failed before the one that
  served (on an error response: on all of them), described by their count;
* ``upstream``: from calling the backend that served to its response headers.

Only durations and counts are sent: no backend, URL or credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class OpenTiming:
    """Timestamps of one request's way to its upstream; each attempt's call restarts the upstream clock."""

    clock: Callable[[], float] = time.monotonic
    started_at: float = field(default=0.0)
    attempts: int = 0
    first_call_at: float | None = None
    call_at: float | None = None
    answered_at: float | None = None

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def calling(self) -> None:
        """An attempt is about to call its backend."""
        self.call_at = self.clock()
        self.first_call_at = self.first_call_at if self.first_call_at is not None else self.call_at
        self.answered_at = None
        self.attempts += 1

    def answered(self) -> None:
        """The backend just called sent its response headers."""
        self.answered_at = self.clock()

    def header(self, served: bool) -> str:
        """The ``Server-Timing`` value, in milliseconds; ``served`` when the last attempt's stream is the answer."""
        now = self.clock()
        if self.first_call_at is None or self.call_at is None:
            return _metric("relay", now - self.started_at)
        metrics = [_metric("relay", self.first_call_at - self.started_at)]
        failed = self.attempts - 1 if served else self.attempts
        if failed:
            failed_until = self.call_at if served else now
            plural = "s" if failed > 1 else ""
            metrics.append(_metric("failed", failed_until - self.first_call_at, f"{failed} attempt{plural}"))
        if served and self.answered_at is not None:
            metrics.append(_metric("upstream", self.answered_at - self.call_at))
        return ", ".join(metrics)


def _metric(name: str, seconds: float, description: str | None = None) -> str:
    text = f"{name};dur={max(0.0, seconds) * 1000:.1f}"
    return f'{text};desc="{description}"' if description else text
