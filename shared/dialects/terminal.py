"""The last line of the one-terminal-frame contract: whatever fails, the client reads an end.

The stream an encoder reads is already guarded (:mod:`shared.streaming.terminal_guarantee`),
but the stages above the guard (metering, tracing) and the encoders
themselves can still fail. Without this wrapper such a failure would cut the
response mid-body, which a client cannot tell from a network fault. Here any
failure, or a stream that stops without a terminal event, becomes exactly one
terminal error frame in the client's dialect, and the stream underneath is
always closed, so the router and the quota lease are settled by their own
``finally`` blocks.

It is also where frames become writes. When the stage underneath already
holds the next event (``backlog``, see :class:`shared.streaming.keepalive.Backlog`),
this frame is kept and goes out with the next one: one ``send`` and one
socket write for all the events a single upstream read completed, where a
write per event was the largest single cost of a busy stream. Nothing waits
for that: a frame with nothing behind it is written at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sized

from ..events import Finish, StreamError, StreamEvent
from ..streaming.cancellation import close_shielded

logger = logging.getLogger(__name__)

INTERNAL_ERROR = StreamError("internal_error", "the relay failed while streaming; please retry", retryable=True)
TERMINAL = (Finish, StreamError)
# Frames written together at most: a write of ~16 KiB costs the syscall once, and the first frame is not held long.
MAX_HELD = 64
TRUNCATED = StreamError("relay_truncated", "the stream ended without finishing; please retry", retryable=True)


async def terminated(
    events: AsyncIterator[StreamEvent],
    encode: Callable[[StreamEvent], bytes],
    error_frame: Callable[[StreamError], bytes],
    backlog: Sized = (),
) -> AsyncGenerator[bytes, None]:
    """``encode``'s frames for ``events``, ending in exactly one terminal frame; ready frames written together."""
    ended = False
    held: list[bytes] = []
    try:
        async for item in events:
            frame = encode(item)
            ended = isinstance(item, TERMINAL)
            if frame:
                held.append(frame)
            if held and (ended or not backlog or len(held) >= MAX_HELD):
                chunk = held[0] if len(held) == 1 else b"".join(held)
                held.clear()
                yield chunk
            if ended:
                return
        yield b"".join([*held, error_frame(TRUNCATED)])
    except Exception:
        logger.exception("the relay failed while streaming a response")
        if not ended:
            yield b"".join([*held, error_frame(INTERNAL_ERROR)])
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
