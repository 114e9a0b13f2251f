"""The last line of the one-terminal-frame contract: whatever fails, the client reads an end.

The stream an encoder reads is already guarded (:mod:`shared.streaming.terminal_guarantee`),
but the stages above the guard (metering, tracing) and the encoders
themselves can still fail. Without this wrapper such a failure would cut the
response mid-body, which a client cannot tell from a network fault. Here any
failure, or a stream that stops without a terminal event, becomes exactly one
terminal error frame in the client's dialect, and the stream underneath is
always closed, so the router and the quota lease are settled by their own
``finally`` blocks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from ..events import Finish, StreamError, StreamEvent
from ..streaming.cancellation import close_shielded

logger = logging.getLogger(__name__)

INTERNAL_ERROR = StreamError("internal_error", "the relay failed while streaming; please retry", retryable=True)
TRUNCATED = StreamError("relay_truncated", "the stream ended without finishing; please retry", retryable=True)


async def terminated(
    events: AsyncIterator[StreamEvent],
    encode: Callable[[StreamEvent], bytes],
    error_frame: Callable[[StreamError], bytes],
) -> AsyncGenerator[bytes, None]:
    """``encode``'s frames for ``events``, ending in exactly one terminal frame."""
    ended = False
    try:
        async for item in events:
            frame = encode(item)
            ended = isinstance(item, Finish | StreamError)
            if frame:
                yield frame
            if ended:
                return
        yield error_frame(TRUNCATED)
    except Exception:
        logger.exception("the relay failed while streaming a response")
        if not ended:
            yield error_frame(INTERNAL_ERROR)
    finally:
        await _close_quietly(events)


async def _close_quietly(events: AsyncIterator[StreamEvent]) -> None:
    """Close the stages underneath; a failure there (a trace that cannot log) must not cut the response."""
    close = getattr(events, "aclose", None)
    if close is None:
        return
    try:
        await close_shielded(close())
    except Exception:
        logger.exception("the relay failed while closing a response stream")
