"""The router's view of one backend, as ``GET /api/health`` shows it.

Times are wall-clock UTC so an operator can read them; the router itself
counts in monotonic seconds, which are converted here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..providers.contract import BackendSettings
from .state import BackendState, Condition, condition, recovers_at


def describe(backend: BackendSettings, state: BackendState, now: float, wall_now: datetime) -> dict[str, Any]:
    """Name, provider, condition and, while unavailable, until when; never settings or secrets."""
    current = condition(state, now)
    entry: dict[str, Any] = {"name": backend.name, "provider": backend.provider, "state": current.value}
    until = recovers_at(state, now)
    if until is not None:
        entry["until"] = (wall_now + timedelta(seconds=until - now)).isoformat(timespec="seconds")
    if state.consecutive_failures:
        entry["consecutive_failures"] = state.consecutive_failures
    if current is Condition.HEALTHY and state.headroom is not None and now < state.headroom.expires_at:
        entry["remaining"] = {
            "requests": state.headroom.remaining_requests,
            "tokens": state.headroom.remaining_tokens,
        }
    return entry
