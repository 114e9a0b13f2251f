"""A refused credential exchange, remembered: retries within the backoff fail without calling STS.

When a trust is misconfigured (a wrong audience, a role that does not trust
the tenant), every request would otherwise trigger its own exchange, and the
relay would hammer AWS or Google STS at the rate clients retry. The router
does not cool a backend down for a non-retryable failure, so the provider
remembers the refusal itself for ``seconds`` and answers from memory.

The cause is logged once per real attempt, scrubbed; the error raised to
clients names the backend and the step, never a token or an STS message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import UPSTREAM_AUTH_FAILED, UpstreamUnavailable
from ..redaction import scrub

logger = logging.getLogger(__name__)

T = TypeVar("T")
BACKOFF_SECONDS = 30.0


class ExchangeBackoff:
    """Runs one backend's exchanges; after a failure, fails fast for ``seconds``. Thread-safe."""

    def __init__(
        self, backend: str, step: str, seconds: float = BACKOFF_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._backend = backend
        self._step = step
        self._seconds = seconds
        self._clock = clock
        self._refused_until = float("-inf")
        self._lock = threading.Lock()

    def run(self, exchange: Callable[[], T]) -> T:
        """``exchange()``, unless a failure is still being remembered; any failure becomes a clean 503."""
        with self._lock:
            remembered = self._clock() < self._refused_until
        if remembered:
            raise self.refused()
        try:
            return exchange()
        except Exception as exc:
            with self._lock:
                self._refused_until = self._clock() + self._seconds
            logger.error("backend %s: %s failed: %s", self._backend, self._step, scrub(f"{type(exc).__name__}: {exc}"))
            raise self.refused() from exc

    def refused(self) -> UpstreamUnavailable:
        """Non-retryable: another attempt within the backoff would be refused the same way."""
        return UpstreamUnavailable(
            f"backend {self._backend}: {self._step} was refused; check the federation trust",
            code=UPSTREAM_AUTH_FAILED,
            status=503,
            retryable=False,
        )
