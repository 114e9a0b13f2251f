"""The router: per-instance memory of every backend's health, around pure choices.

This is the only mutable part of routing. It reads the injected clock once
per call, hands state, time and the injected random source to
:func:`~shared.routing.choice.choose_backend`, and folds what each request
taught it back in with the pure transitions of :mod:`shared.routing.state`.
State lives in this process's memory; see the README on scaling out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..providers.contract import BackendSettings
from .choice import choose_backend, earliest_recovery
from .dispatch import Dispatch
from .headroom import read_headroom
from .health import describe
from .outcome import Outcome, Verdict
from .settings import RoutingSettings
from .state import BackendState, Condition, condition, dispatched, failed, observed, rate_limited, released, succeeded

Clock = Callable[[], float]


class Router:
    """Maps aliases to pools and remembers each backend's health."""

    def __init__(
        self,
        pools: Mapping[str, Sequence[BackendSettings]],
        settings: RoutingSettings | None = None,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or RoutingSettings()
        self._pools = {alias: tuple(pool) for alias, pool in pools.items()}
        self._backends = {backend.name: backend for pool in self._pools.values() for backend in pool}
        self._states = {name: BackendState() for name in self._backends}
        self._clock = clock
        self._rng = rng or random.Random()

    def aliases(self) -> list[str]:
        """Every public alias, in configuration order."""
        return list(self._pools)

    def pool(self, alias: str) -> tuple[BackendSettings, ...]:
        """The backends serving ``alias``; empty for an unknown alias."""
        return self._pools.get(alias, ())

    def state(self, name: str) -> BackendState:
        """What the router currently remembers about one backend."""
        return self._states[name]

    def condition(self, name: str) -> Condition:
        """The backend's condition now: healthy, cooling down, circuit open..."""
        return condition(self._states[name], self._clock())

    def choose(self, alias: str, exclude: Collection[str] = ()) -> BackendSettings | None:
        """The next backend to try for ``alias``, recorded as dispatched; None when none may be tried."""
        now = self._clock()
        backend = choose_backend(self.pool(alias), self._states, now, self._rng, self.settings.headroom, exclude)
        if backend is not None:
            self._states[backend.name] = dispatched(self._states[backend.name], now)
        return backend

    def dispatch(self, alias: str, exclude: Collection[str] = ()) -> Dispatch | None:
        """Like :meth:`choose`, as a :class:`Dispatch` that records its outcome exactly once."""
        backend = self.choose(alias, exclude)
        return None if backend is None else Dispatch(self, backend)

    def record_headers(self, name: str, headers: Mapping[str, str]) -> None:
        """Remember the rate-limit counters a backend reported when it accepted a request."""
        headroom = read_headroom(headers, self._clock(), self.settings.headroom)
        self._states[name] = observed(self._states[name], headroom)

    def record(self, name: str, outcome: Outcome) -> None:
        """Fold one request's outcome into the backend's state."""
        state, now = self._states[name], self._clock()
        match outcome.verdict:
            case Verdict.SUCCESS:
                state = succeeded(state)
            case Verdict.FAILURE:
                state = failed(state, now, self.settings, outcome.retry_after)
            case Verdict.RATE_LIMITED:
                state = rate_limited(state, now, self.settings, outcome.retry_after)
            case Verdict.NEUTRAL:
                state = released(state)
        self._states[name] = state

    def only_rate_limited(self, alias: str, tried_rate_limited: Sequence[bool]) -> bool:
        """Whether rate limits alone stand in the way: a 429 deserves a retry, a broken pool a 503.

        ``tried_rate_limited`` says, per backend tried, whether it answered 429.
        True when every backend tried did, or none was tried and one is cooling
        down, and no backend of the pool is out for failures.
        """
        conditions = {self.condition(backend.name) for backend in self.pool(alias)}
        if conditions & {Condition.CIRCUIT_OPEN, Condition.PROBING}:
            return False
        if tried_rate_limited:
            return all(tried_rate_limited)
        return Condition.COOLING_DOWN in conditions

    def retry_after(self, alias: str) -> float | None:
        """Seconds until the first unavailable backend of the pool recovers, if known."""
        return earliest_recovery(self.pool(alias), self._states, self._clock())

    def health(self) -> list[dict[str, Any]]:
        """Each backend's condition, for ``GET /api/health``."""
        now, wall_now = self._clock(), datetime.now(UTC)
        return [describe(backend, self._states[name], now, wall_now) for name, backend in self._backends.items()]
