"""Provider token counts, checked where they become canonical :class:`~shared.events.Usage`.

Usage decides what a caller is charged, so a count that is not a
non-negative integer (a string, a float, a negative number, or ``true``,
which Python would count as 1) is not guessed at. An absent or null count
is zero, as providers leave out the counts that do not apply. The whole usage report is
dropped with a warning naming the field; the stream goes on, and the quota
lease is then settled with the request's whole reservation.

A field name may be a dotted path (``prompt_tokens_details.cached_tokens``)
into nested detail objects; an absent or null object on the way counts zero,
any other non-object is malformed like a bad count.
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
    cached: Sequence[str] = (),
    reasoning: Sequence[str] = (),
    cache_write: Sequence[str] = (),
) -> Usage | None:
    """Usage summed from ``body``'s fields, or None when a count is malformed.

    ``cached``, ``reasoning`` and ``cache_write`` name the breakdown counts;
    the caller picks ``prompt`` and ``completion`` fields so that the totals
    already include them, as OpenAI's do.
    """
    try:
        return Usage(
            prompt_tokens=_total(body, prompt),
            completion_tokens=_total(body, completion),
            cached_tokens=_total(body, cached),
            reasoning_tokens=_total(body, reasoning),
            cache_write_tokens=_total(body, cache_write),
        )
    except MalformedCount as exc:
        logger.warning("%s sent a malformed usage count in %s; the usage report is ignored", provider, exc)
        return None


def _total(body: Mapping[str, Any], names: Sequence[str]) -> int:
    return sum(_count(_lookup(body, name), name) for name in names)


def _lookup(body: Mapping[str, Any], name: str) -> object:
    """The value at a dotted path; None when an object on the way is absent or null."""
    value: object = body
    for key in name.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise MalformedCount(name)
        value = value.get(key)
    return value


def _count(value: object, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedCount(name)
    return value
