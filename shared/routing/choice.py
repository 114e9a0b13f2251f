"""Choosing one backend from a pool: a pure function of state, time and a random source.

The order of preference, first match wins:

1. available backends with headroom, in the lowest priority number present,
   picked at random in proportion to their weights;
2. available backends that are nearly exhausted, by the same rule.

"Available" means not cooling down, no open circuit, no probe in flight, and
not already tried for this request. So a priority group is used only when
every backend before it is unavailable or nearly exhausted, and a nearly
exhausted backend still serves when nothing else can.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence

from ..providers.contract import BackendSettings
from .headroom import has_room
from .settings import HeadroomSettings
from .state import BackendState, is_available, recovers_at


def choose_backend(
    pool: Sequence[BackendSettings],
    states: Mapping[str, BackendState],
    now: float,
    rng: random.Random,
    headroom: HeadroomSettings,
    exclude: Collection[str] = (),
) -> BackendSettings | None:
    """The backend to try next, or None when no backend in the pool may be tried."""
    available = [b for b in pool if b.name not in exclude and is_available(states[b.name], now)]
    roomy = [b for b in available if has_room(states[b.name].headroom, now, headroom)]
    for tier in (roomy, available):
        if tier:
            first = min(backend.priority for backend in tier)
            return pick_weighted([backend for backend in tier if backend.priority == first], rng)
    return None


def pick_weighted(group: Sequence[BackendSettings], rng: random.Random) -> BackendSettings:
    """One backend, each with probability proportional to its weight."""
    point = rng.random() * math.fsum(backend.weight for backend in group)
    for backend in group:
        point -= backend.weight
        if point < 0:
            return backend
    return group[-1]


def earliest_recovery(pool: Sequence[BackendSettings], states: Mapping[str, BackendState], now: float) -> float | None:
    """Seconds until the first unavailable backend of the pool recovers; None if none is known."""
    times = [recovers_at(states[backend.name], now) for backend in pool]
    known = [when - now for when in times if when is not None]
    return min(known) if known else None
