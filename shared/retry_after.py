"""Reading an upstream's "come back later" hints from its response headers.

Providers disagree on the header: Azure OpenAI sends ``retry-after-ms`` and
``retry-after``, OpenAI-style services add ``x-ratelimit-reset-*`` durations
such as ``6m0s`` or ``1.5s``. The first one present wins, in that order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait before retrying, from the first hint present, or None."""
    lowered = {name.lower(): value for name, value in headers.items()}
    milliseconds = _number(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    seconds = _retry_after(lowered.get("retry-after"))
    if seconds is not None:
        return seconds
    resets = [_duration(lowered.get(name)) for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")]
    known = [value for value in resets if value is not None]
    return max(known) if known else None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    number = _number(value)
    if number is not None or value is None:
        return number
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _duration(value: str | None) -> float | None:
    """``1m30s``, ``250ms`` or plain seconds, as seconds."""
    number = _number(value)
    if number is not None or value is None:
        return number
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(f"{amount}{unit}" for amount, unit in parts) != value.strip():
        return None
    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)
