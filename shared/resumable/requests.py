"""What a resume or cancel request names: the stream, and the last event the client has.

``Last-Event-ID`` is what EventSource sends on its own when it reconnects;
``?after=n`` is for clients that cannot set headers. A malformed value is the
client's 400, naming the parameter; an id of the wrong shape is a stream that
does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import InvalidRequest

RESUMABLE_HEADER = "x-relay-resumable"
STREAM_ID_HEADER = "x-relay-stream-id"
LAST_EVENT_ID = "last-event-id"
STREAM_ID = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_EVENT_NUMBER = 9_999_999_999


def wants_resumable(headers: Mapping[str, str]) -> bool:
    """Whether the client opted in with ``x-relay-resumable: 1``."""
    return headers.get(RESUMABLE_HEADER, "").strip() == "1"


def stream_id_of(path: str) -> str | None:
    """The id in ``.../streams/{id}``, or None when it cannot be one the relay made."""
    candidate = path.rstrip("/").rsplit("/", 1)[-1]
    return candidate if STREAM_ID.fullmatch(candidate) else None


def resume_point(headers: Mapping[str, str], query: Mapping[str, str]) -> int:
    """The number of the last event the client has: ``?after`` first, then ``Last-Event-ID``, else 0."""
    for name, raw in (("after", query.get("after")), ("Last-Event-ID", headers.get(LAST_EVENT_ID))):
        if raw is None:
            continue
        value = raw.strip()
        if not value.isascii() or not value.isdigit() or int(value) > MAX_EVENT_NUMBER:
            raise InvalidRequest(f"{name} must be the number of an event of this stream (0 or more)", param=name)
        return int(value)
    return 0
