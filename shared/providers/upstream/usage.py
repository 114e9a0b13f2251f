"""Provider token counts, checked where they become canonical :class:`~shared.events.Usage`.

Usage decides what a caller is charged, so a count that is not a
non-negative integer (a string, a float, a negative number, or ``true``,
which Python would count as 1) is not guessed at. An absent or null count
is zero, as providers leave out the counts that do not apply. The whole usage report is
dropped with a warning naming the field; the stream goes on, and the quota
lease is then settled with the request's whole reservation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ...events import Usage

logger = logging.getLogger(__name__)


class MalformedCount(ValueError):
    """A token count that is not a non-negative integer; the message is the field's name."""


def usage_of(
    body: Mapping[str, Any],
    prompt: Sequence[str],
    completion: Sequence[str],
    *,
    provider: str,
) -> Usage | None:
    """Usage summed from ``body``'s ``prompt`` and ``completion`` fields, or None when a count is malformed."""
    try:
        return Usage(_total(body, prompt), _total(body, completion))
    except MalformedCount as exc:
        logger.warning("%s sent a malformed usage count in %s; the usage report is ignored", provider, exc)
        return None


def _total(body: Mapping[str, Any], names: Sequence[str]) -> int:
    return sum(_count(body.get(name), name) for name in names)


def _count(value: object, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedCount(name)
    return value
