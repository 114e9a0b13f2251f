"""Pacing a client stream: heartbeats while the upstream is quiet, and timeouts when it is too quiet.

Proxies and Azure's front end drop a connection that carries no bytes for a
few minutes, and a model may think for longer than that before its first
token. So while no event arrives the stream carries an SSE comment
(``: keep-alive``) every ``heartbeat_seconds``; SSE readers ignore comments,
whatever the dialect. If the first event takes longer than
``first_token_timeout_seconds``, or a later silence lasts longer than
``idle_timeout_seconds``, the stream ends with a retryable
:class:`~shared.events.StreamError` and the upstream is closed.

The upstream is read by a helper task that survives each heartbeat, because
cancelling a read to send a heartbeat would cancel the upstream itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from .config import StreamSettings
from .dialects.sse import HEARTBEAT
from .events import Finish, StreamError, StreamEvent
from .stream_guard import close_shielded

T = TypeVar("T")


@dataclass
class _Clock:
    """Deadlines of one stream, in event-loop seconds."""

    settings: StreamSettings
    last_event: float
    next_heartbeat: float
    seen_event: bool = False

    def deadline(self) -> float:
        if self.seen_event:
            return self.last_event + self.settings.idle_timeout_seconds
        return self.last_event + self.settings.first_token_timeout_seconds

    def event_at(self, now: float) -> None:
        self.seen_event = True
        self.last_event = now
        self.next_heartbeat = now + self.settings.heartbeat_seconds

    def heartbeat_at(self, now: float) -> None:
        self.next_heartbeat = now + self.settings.heartbeat_seconds

    def timeout_error(self) -> StreamError:
        if self.seen_event:
            seconds, code, what = self.settings.idle_timeout_seconds, "idle_timeout", "nothing more"
        else:
            seconds, code, what = self.settings.first_token_timeout_seconds, "first_token_timeout", "no first token"
        return StreamError(code, f"the upstream sent {what} within {seconds:g} seconds", retryable=True)


async def paced_events(
    events: AsyncIterator[StreamEvent], settings: StreamSettings
) -> AsyncGenerator[StreamEvent | bytes, None]:
    """``events`` with heartbeat bytes interleaved and both timeouts enforced.

    Ends after the first terminal event it passes on or produces, and always
    closes ``events``, also when the consumer stops early or is cancelled.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    clock = _Clock(settings, last_event=started, next_heartbeat=started + settings.heartbeat_seconds)
    reading: asyncio.Task[StreamEvent] | None = None
    try:
        while True:
            if reading is None:
                reading = asyncio.ensure_future(_next(events))
            wake_at = min(clock.next_heartbeat, clock.deadline())
            await asyncio.wait({reading}, timeout=max(0.0, wake_at - loop.time()))
            now = loop.time()
            if reading.done():
                try:
                    event = reading.result()
                except StopAsyncIteration:
                    return
                reading = None
                clock.event_at(now)
                yield event
                if isinstance(event, Finish | StreamError):
                    return
            elif now >= clock.deadline():
                yield clock.timeout_error()
                return
            elif now >= clock.next_heartbeat:
                clock.heartbeat_at(now)
                yield HEARTBEAT
    finally:
        await close_shielded(_stop(reading, events))


async def _next(events: AsyncIterator[T]) -> T:
    return await anext(events)


async def _stop(reading: asyncio.Task[StreamEvent] | None, events: AsyncIterator[StreamEvent]) -> None:
    """Cancel a pending read (which unwinds the upstream), then close the iterator."""
    if reading is not None and not reading.done():
        reading.cancel()
    if reading is not None:
        await asyncio.wait({reading})
        if not reading.cancelled():
            reading.exception()  # retrieved, so asyncio does not log it as never retrieved
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
