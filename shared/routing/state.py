"""One backend's health as the router remembers it, and the pure transitions that change it.

Each transition takes the old state and the time and returns a new state, so
a test or a simulation can replay any history with a fake clock. Time is a
monotonic number of seconds; nothing here reads a clock.

A backend is in one of these conditions::

    healthy       takes traffic
    cooling_down  answered 429; no traffic until its Retry-After has passed
    circuit_open  failed ``failure_threshold`` times in a row; resting
    half_open     the rest is over; the next request is a probe
    probing       the probe is in flight; no other traffic until it ends
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from .headroom import Headroom, spend_request
from .settings import RoutingSettings


class Condition(StrEnum):
    HEALTHY = "healthy"
    COOLING_DOWN = "cooling_down"
    CIRCUIT_OPEN = "circuit_open"
    HALF_OPEN = "half_open"
    PROBING = "probing"


AVAILABLE = frozenset({Condition.HEALTHY, Condition.HALF_OPEN})


@dataclass(frozen=True, slots=True)
class BackendState:
    """Everything the router knows about one backend; a fresh backend is healthy."""

    cooldown_until: float = -math.inf
    consecutive_failures: int = 0
    circuit_open_until: float | None = None
    probing: bool = False
    headroom: Headroom | None = None


def condition(state: BackendState, now: float) -> Condition:
    """Which condition the backend is in at ``now``."""
    if state.circuit_open_until is not None and now < state.circuit_open_until:
        return Condition.CIRCUIT_OPEN
    if state.probing:
        return Condition.PROBING
    if now < state.cooldown_until:
        return Condition.COOLING_DOWN
    if state.circuit_open_until is not None:
        return Condition.HALF_OPEN
    return Condition.HEALTHY


def is_available(state: BackendState, now: float) -> bool:
    """Whether the backend may be sent a request at ``now``."""
    return condition(state, now) in AVAILABLE


def recovers_at(state: BackendState, now: float) -> float | None:
    """When an unavailable backend becomes available again; None if available or unknown.

    A backend whose probe is in flight has no known recovery time: it
    depends on how the probe ends.
    """
    match condition(state, now):
        case Condition.COOLING_DOWN | Condition.CIRCUIT_OPEN:
            return max(state.cooldown_until, state.circuit_open_until or -math.inf)
        case _:
            return None


def dispatched(state: BackendState, now: float) -> BackendState:
    """A request was sent: it becomes the probe of a half-open circuit, and spends headroom."""
    probing = state.probing or condition(state, now) is Condition.HALF_OPEN
    return replace(state, probing=probing, headroom=spend_request(state.headroom))


def succeeded(state: BackendState) -> BackendState:
    """The backend served a request to the end: the breaker forgets past failures."""
    return replace(state, consecutive_failures=0, circuit_open_until=None, probing=False)


def failed(state: BackendState, now: float, settings: RoutingSettings, retry_after: float | None) -> BackendState:
    """A 5xx, connect error or timeout: count it, and open the circuit at the threshold.

    A failed probe reopens the circuit at once. A failure that carries a
    Retry-After also cools the backend down for that long.
    """
    failures = state.consecutive_failures + 1
    trips = state.probing or failures >= settings.breaker.failure_threshold
    open_until = now + settings.breaker.open_seconds if trips else state.circuit_open_until
    cooldown_until = state.cooldown_until
    if retry_after is not None:
        cooldown_until = max(cooldown_until, now + cooldown_seconds(retry_after, settings))
    return replace(
        state,
        consecutive_failures=failures,
        circuit_open_until=open_until,
        probing=False,
        cooldown_until=cooldown_until,
    )


def rate_limited(state: BackendState, now: float, settings: RoutingSettings, retry_after: float | None) -> BackendState:
    """A 429: the backend is up but full, so the breaker forgives it and a cooldown starts.

    The counters it reported earlier are out of date by definition, so they
    are dropped.
    """
    until = now + cooldown_seconds(retry_after, settings)
    return replace(
        succeeded(state),
        cooldown_until=max(state.cooldown_until, until),
        headroom=None,
    )


def released(state: BackendState) -> BackendState:
    """A request ended without telling anything about the backend (the client left)."""
    return replace(state, probing=False)


def observed(state: BackendState, headroom: Headroom | None) -> BackendState:
    """The backend reported its rate-limit counters; a response without them keeps the old reading."""
    return state if headroom is None else replace(state, headroom=headroom)


def cooldown_seconds(retry_after: float | None, settings: RoutingSettings) -> float:
    """The upstream's hint, or the default, bounded by ``cooldown.max_seconds``."""
    seconds = settings.cooldown.default_seconds if retry_after is None else retry_after
    return min(max(0.0, seconds), settings.cooldown.max_seconds)
