"""Headroom: what a backend's own rate-limit counters say about its next request.

Azure OpenAI reports ``x-ratelimit-remaining-requests`` and ``-tokens`` on
every response. A backend whose counters are at or below the reserve is about
to answer 429, so the router sends traffic elsewhere first instead of
learning that from a refused request. A reading is only trusted until the
counters reset (the upstream's ``x-ratelimit-reset-*`` hint) or, without a
hint, for ``max_age_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..retry_after import retry_after_seconds
from .settings import HeadroomSettings


@dataclass(frozen=True, slots=True)
class Headroom:
    """The last counter reading from one backend; ``None`` counters were not reported."""

    remaining_requests: int | None
    remaining_tokens: int | None
    expires_at: float


def read_headroom(headers: Mapping[str, str], now: float, settings: HeadroomSettings) -> Headroom | None:
    """The counters a successful response reported, or None when it reported none."""
    lowered = {name.lower(): value for name, value in headers.items()}
    requests = _count(lowered.get("x-ratelimit-remaining-requests"))
    tokens = _count(lowered.get("x-ratelimit-remaining-tokens"))
    if requests is None and tokens is None:
        return None
    resets_in = retry_after_seconds(lowered)
    trusted_for = settings.max_age_seconds if resets_in is None else min(resets_in, settings.max_age_seconds)
    return Headroom(requests, tokens, expires_at=now + trusted_for)


def has_room(headroom: Headroom | None, now: float, settings: HeadroomSettings) -> bool:
    """Whether the backend's last known counters leave more than the reserve."""
    if headroom is None or now >= headroom.expires_at:
        return True
    if headroom.remaining_requests is not None and headroom.remaining_requests <= settings.reserve_requests:
        return False
    return headroom.remaining_tokens is None or headroom.remaining_tokens > settings.reserve_tokens


def spend_request(headroom: Headroom | None) -> Headroom | None:
    """The reading after one more request was sent, before the upstream's next report.

    Counting requests locally keeps a burst of concurrent requests from all
    trusting the same optimistic reading.
    """
    if headroom is None or headroom.remaining_requests is None:
        return headroom
    return replace(headroom, remaining_requests=max(0, headroom.remaining_requests - 1))


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return max(0, int(float(value)))
    except ValueError:
        return None
