"""The contract every client stream keeps, whatever the adapter does.

A guarded stream ends with exactly one terminal event: the adapter's
:class:`Finish`, or a :class:`StreamError` that replaces an exception, a
premature end, or anything after a terminal event. The upstream is closed in
``finally`` on completion, on error and when the client goes away.

This is also where an upstream's error text enters the canonical stream, so
it is scrubbed here (:mod:`.redaction`), once for every dialect; the
relay's own messages are left as written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace

import anyio

from .errors import RelayError
from .events import Finish, StreamError, StreamEvent
from .providers.contract import UpstreamStream
from .redaction import scrub

logger = logging.getLogger(__name__)

# Closing an upstream is a socket close; anything slower is abandoned rather than awaited.
CLOSE_TIMEOUT_SECONDS = 2.0


async def guarded_events(stream: UpstreamStream, backend: str) -> AsyncIterator[StreamEvent]:
    """The adapter's events with the one-terminal-event contract enforced."""
    try:
        async for event in stream.events:
            if isinstance(event, StreamError):
                yield replace(event, message=scrub(event.message))
                return
            yield event
            if isinstance(event, Finish):
                return
        yield StreamError("upstream_truncated", "the upstream stream ended without finishing", retryable=True)
    except RelayError as exc:
        yield StreamError(exc.code, scrub(exc.message), retryable=exc.retryable, retry_after=exc.retry_after)
    except Exception:
        logger.exception("backend %s: unexpected failure while streaming", backend)
        yield StreamError("internal_error", "the relay failed while streaming; please retry", retryable=True)
    finally:
        await close_shielded(stream.aclose())


async def close_shielded(closing: Awaitable[None]) -> None:
    """Await a clean-up step even while the surrounding task is being cancelled.

    When a client disconnects, the server cancels the task that streams the
    response; without a shield the very first await of the clean-up would be
    cancelled too, and the upstream would keep generating unread tokens.
    """
    with anyio.move_on_after(CLOSE_TIMEOUT_SECONDS, shield=True):
        await closing
