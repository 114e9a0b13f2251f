"""The contract every client stream keeps, whatever the adapter does.

A guarded stream ends with exactly one terminal event: the adapter's
:class:`Finish`, or a :class:`StreamError` that replaces an exception, a
premature end, or anything after a terminal event. The upstream is closed in
``finally`` on completion, on error and when the client goes away.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable

import anyio

from .errors import RelayError
from .events import Finish, StreamError, StreamEvent
from .providers.base import UpstreamStream

logger = logging.getLogger(__name__)

# Closing an upstream is a socket close; anything slower is abandoned rather than awaited.
CLOSE_TIMEOUT_SECONDS = 2.0


async def guarded_events(stream: UpstreamStream, backend: str) -> AsyncIterator[StreamEvent]:
    """The adapter's events with the one-terminal-event contract enforced."""
    try:
        async for event in stream.events:
            yield event
            if isinstance(event, (Finish, StreamError)):
                return
        yield StreamError("upstream_truncated", "the upstream stream ended without finishing", retryable=True)
    except RelayError as exc:
        yield StreamError(exc.code, exc.message, retryable=exc.retryable, retry_after=exc.retry_after)
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
