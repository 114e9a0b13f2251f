"""Backend state transitions: each case is a history replayed on a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.routing.headroom import Headroom
from shared.routing.settings import BreakerSettings, CooldownSettings, RoutingSettings
from shared.routing.state import (
    BackendState,
    Condition,
    condition,
    cooldown_seconds,
    dispatched,
    failed,
    observed,
    rate_limited,
    recovers_at,
    released,
    succeeded,
)

SETTINGS = RoutingSettings(
    cooldown=CooldownSettings(default_seconds=10, max_seconds=60),
    breaker=BreakerSettings(failure_threshold=3, open_seconds=30),
)

Step = Callable[[BackendState], BackendState]


def at(now: float, step: str, retry_after: float | None = None) -> Step:
    """One event of a history: what happened to the backend, and when."""
    steps: dict[str, Step] = {
        "send": lambda s: dispatched(s, now),
        "ok": succeeded,
        "fail": lambda s: failed(s, now, SETTINGS, retry_after),
        "429": lambda s: rate_limited(s, now, SETTINGS, retry_after),
        "left": released,
    }
    return steps[step]


def replay(*steps: Step) -> BackendState:
    state = BackendState()
    for step in steps:
        state = step(state)
    return state


@pytest.mark.parametrize(
    ("history", "now", "expected"),
    [
        ([], 0, Condition.HEALTHY),
        ([at(0, "429", 5)], 4.9, Condition.COOLING_DOWN),
        ([at(0, "429", 5)], 5.0, Condition.HEALTHY),
        ([at(0, "429")], 9.9, Condition.COOLING_DOWN),  # the default cooldown
        ([at(0, "429")], 10.0, Condition.HEALTHY),
        ([at(0, "429", 3600)], 59.9, Condition.COOLING_DOWN),  # capped at max_seconds
        ([at(0, "429", 3600)], 60.0, Condition.HEALTHY),
        ([at(0, "fail"), at(1, "fail")], 2, Condition.HEALTHY),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail")], 2, Condition.CIRCUIT_OPEN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail")], 31.9, Condition.CIRCUIT_OPEN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail")], 32, Condition.HALF_OPEN),
        ([at(0, "fail"), at(1, "ok"), at(2, "fail"), at(3, "fail")], 3, Condition.HEALTHY),
        ([at(0, "fail"), at(1, "fail"), at(2, "429", 1), at(3, "fail")], 4, Condition.HEALTHY),
        ([at(0, "fail", 7)], 6.9, Condition.COOLING_DOWN),  # a 503 with Retry-After cools down too
        # Half-open: one probe at a time; its end decides.
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send")], 33, Condition.PROBING),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "ok")], 33, Condition.HEALTHY),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "fail")], 62.9, Condition.CIRCUIT_OPEN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "fail")], 63, Condition.HALF_OPEN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "left")], 33, Condition.HALF_OPEN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "429", 5)], 37, Condition.COOLING_DOWN),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send"), at(33, "429", 5)], 38, Condition.HEALTHY),
        # Sending to a healthy backend is not a probe.
        ([at(0, "send")], 0, Condition.HEALTHY),
    ],
)
def test_histories(history: list[Step], now: float, expected: Condition) -> None:
    assert condition(replay(*history), now) is expected


@pytest.mark.parametrize(
    ("history", "now", "expected"),
    [
        ([], 0, None),
        ([at(0, "429", 5)], 1, 5.0),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail")], 3, 32.0),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail", 40)], 3, 42.0),
        ([at(0, "fail"), at(1, "fail"), at(2, "fail"), at(32, "send")], 33, None),
    ],
)
def test_recovery_time(history: list[Step], now: float, expected: float | None) -> None:
    assert recovers_at(replay(*history), now) == expected


def test_a_later_shorter_429_does_not_shorten_a_cooldown() -> None:
    state = replay(at(0, "429", 30), at(1, "429", 2))
    assert state.cooldown_until == 30


def test_headroom_is_spent_on_dispatch_and_dropped_on_429() -> None:
    state = observed(BackendState(), Headroom(remaining_requests=3, remaining_tokens=None, expires_at=10))
    state = dispatched(dispatched(state, 0), 0)
    assert state.headroom == Headroom(remaining_requests=1, remaining_tokens=None, expires_at=10)
    assert observed(state, None).headroom == state.headroom  # a response without counters keeps the reading
    assert rate_limited(state, 0, SETTINGS, 1).headroom is None


@pytest.mark.parametrize(("retry_after", "expected"), [(None, 10), (0, 0), (2.5, 2.5), (-3, 0), (600, 60)])
def test_cooldown_seconds(retry_after: float | None, expected: float) -> None:
    assert cooldown_seconds(retry_after, SETTINGS) == expected
