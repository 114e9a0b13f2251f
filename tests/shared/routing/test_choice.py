"""Choosing a backend: tables of pools, states and expected picks."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest

from shared.providers.azure_openai import AzureOpenAISettings
from shared.routing.choice import choose_backend, earliest_recovery, pick_weighted
from shared.routing.headroom import Headroom
from shared.routing.settings import HeadroomSettings
from shared.routing.state import BackendState

NOW = 1000.0
HEADROOM = HeadroomSettings(reserve_requests=1, reserve_tokens=1000)

COOLING = BackendState(cooldown_until=NOW + 5)
OPEN = BackendState(consecutive_failures=5, circuit_open_until=NOW + 5)
HALF_OPEN = BackendState(consecutive_failures=5, circuit_open_until=NOW - 1)
PROBING = BackendState(consecutive_failures=5, circuit_open_until=NOW - 1, probing=True)
LOW = BackendState(headroom=Headroom(remaining_requests=1, remaining_tokens=None, expires_at=NOW + 5))
LOW_TOKENS = BackendState(headroom=Headroom(remaining_requests=50, remaining_tokens=900, expires_at=NOW + 5))
STALE_LOW = BackendState(headroom=Headroom(remaining_requests=0, remaining_tokens=0, expires_at=NOW))
ROOMY = BackendState(headroom=Headroom(remaining_requests=50, remaining_tokens=50_000, expires_at=NOW + 5))


def backend(name: str, priority: int = 1, weight: float = 1) -> AzureOpenAISettings:
    return AzureOpenAISettings(
        name=name,
        provider="azure_openai",
        endpoint="https://x.openai.azure.com",
        deployment=name,
        priority=priority,
        weight=weight,
    )


def choose(pool: list[AzureOpenAISettings], states: dict[str, BackendState], exclude: Any = ()) -> str | None:
    full = {b.name: states.get(b.name, BackendState()) for b in pool}
    chosen = choose_backend(pool, full, NOW, random.Random(7), HEADROOM, exclude)
    return chosen.name if chosen else None


PRIMARY, SECONDARY, TERTIARY = backend("primary", 1), backend("secondary", 2), backend("tertiary", 3)
TIERED = [TERTIARY, SECONDARY, PRIMARY]  # configuration order must not matter


@pytest.mark.parametrize(
    ("states", "exclude", "expected"),
    [
        ({}, (), "primary"),
        ({"primary": COOLING}, (), "secondary"),
        ({"primary": OPEN}, (), "secondary"),
        ({"primary": HALF_OPEN}, (), "primary"),
        ({"primary": PROBING}, (), "secondary"),
        ({}, ("primary",), "secondary"),
        ({"primary": COOLING, "secondary": OPEN}, (), "tertiary"),
        ({"primary": COOLING, "secondary": COOLING, "tertiary": OPEN}, (), None),
        ({}, ("primary", "secondary", "tertiary"), None),
        # Headroom: a nearly exhausted backend yields to any backend with room, even a lower priority.
        ({"primary": LOW}, (), "secondary"),
        ({"primary": LOW_TOKENS}, (), "secondary"),
        ({"primary": ROOMY}, (), "primary"),
        ({"primary": STALE_LOW}, (), "primary"),
        ({"primary": LOW, "secondary": LOW, "tertiary": LOW}, (), "primary"),
        ({"primary": LOW, "secondary": COOLING, "tertiary": OPEN}, (), "primary"),
        ({"primary": LOW, "secondary": LOW}, (), "tertiary"),
    ],
)
def test_priority_groups_availability_and_headroom(
    states: dict[str, BackendState], exclude: tuple[str, ...], expected: str | None
) -> None:
    assert choose(TIERED, states, exclude) == expected


def test_weights_split_traffic_within_a_group() -> None:
    pool = [backend("a", weight=5), backend("b", weight=3), backend("c", weight=2), backend("spare", priority=2)]
    rng = random.Random(42)
    states = {b.name: BackendState() for b in pool}
    counts = Counter(choose_backend(pool, states, NOW, rng, HEADROOM).name for _ in range(20_000))  # type: ignore[union-attr]
    shares = {name: counts[name] / 20_000 for name in ("a", "b", "c")}
    assert shares == pytest.approx({"a": 0.5, "b": 0.3, "c": 0.2}, abs=0.01)
    assert counts["spare"] == 0


@pytest.mark.parametrize(
    ("point", "expected"), [(0.0, "a"), (0.49, "a"), (0.5, "b"), (0.79, "b"), (0.8, "c"), (0.999, "c")]
)
def test_pick_weighted_maps_the_random_point_onto_weights(point: float, expected: str) -> None:
    class Fixed(random.Random):
        def random(self) -> float:
            return point

    group = [backend("a", weight=5), backend("b", weight=3), backend("c", weight=2)]
    assert pick_weighted(group, Fixed()).name == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({}, None),
        ({"primary": COOLING}, 5.0),
        ({"primary": COOLING, "secondary": BackendState(cooldown_until=NOW + 2)}, 2.0),
        ({"primary": OPEN, "secondary": BackendState(cooldown_until=NOW + 9)}, 5.0),
        ({"primary": BackendState(cooldown_until=NOW + 8, circuit_open_until=NOW + 3)}, 8.0),
        ({"primary": PROBING}, None),
    ],
)
def test_earliest_recovery(states: dict[str, BackendState], expected: float | None) -> None:
    full = {b.name: states.get(b.name, BackendState()) for b in TIERED}
    found = earliest_recovery(TIERED, full, NOW)
    assert found == (pytest.approx(expected) if expected is not None else None)
    assert found is None or math.isfinite(found)
