"""Keep-alive and timeouts: heartbeats while the upstream is quiet, and an end when it is too quiet.

Proxies and Azure's front end drop a connection that carries no bytes for a
few minutes, and a model may think for longer than that before its first
token. So while no event arrives the stream carries a :class:`~shared.events.Heartbeat`
every ``heartbeat_seconds``, which the dialect writes as an SSE comment that
readers ignore. If the first event takes longer than
``first_token_timeout_seconds``, or a later silence lasts longer than
``idle_timeout_seconds``, the stream ends with a retryable
:class:`~shared.events.StreamError` and the upstream is closed.

The upstream is read by a helper task that survives each heartbeat, because
cancelling a read to send a heartbeat would cancel the upstream itself.

One network read often completes several events (a busy upstream, or a
usage chunk right behind the last delta). The reader takes all of those in
one wake-up, not one per event, and a :class:`Backlog` tells the writer
they are there, so it can put them into one socket write (see
:mod:`shared.dialects.terminal`). Nothing waits for more: an event that is
alone goes out at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass

from ..config import StreamSettings
from ..events import Finish, Heartbeat, StreamError, StreamEvent
from .cancellation import close_shielded

HEARTBEAT = Heartbeat()
TERMINAL = (Finish, StreamError)


def never() -> bool:
    """The readiness test of a source that cannot tell: read only as asked."""
    return False


class Backlog:
    """The events of one stream that are already here but not yet passed on.

    ``upstream_ready`` is the source's own test for "my next event is decoded
    already, reading it will not wait" (:meth:`ChunkEvents.ready
    <shared.providers.openai_compatible.ChunkEvents.ready>`); the reader
    reads on while it holds. ``len()`` is what the reader holds, which the
    writer reads to decide whether to write now or with the next frame.
    """

    __slots__ = ("held", "upstream_ready")

    def __init__(self, upstream_ready: Callable[[], bool] = never) -> None:
        self.upstream_ready = upstream_ready
        self.held: deque[StreamEvent] = deque()

    def __len__(self) -> int:
        return len(self.held)


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
    events: AsyncIterator[StreamEvent], settings: StreamSettings, backlog: Backlog | None = None
) -> AsyncGenerator[StreamEvent, None]:
    """``events`` with heartbeats interleaved and both timeouts enforced.

    Ends after the first terminal event it passes on or produces, and always
    closes ``events``, also when the consumer stops early or is cancelled.
    ``backlog`` shows what has been read but not yet passed on.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    clock = _Clock(settings, last_event=started, next_heartbeat=started + settings.heartbeat_seconds)
    reader = _Reader(events, loop, Backlog() if backlog is None else backlog)
    try:
        while True:
            await reader.wait(until=min(clock.next_heartbeat, clock.deadline()))
            now = loop.time()
            if reader.has_event:
                event = reader.take()
                clock.event_at(now)
                yield event
                if isinstance(event, TERMINAL):
                    return
            elif reader.ended:
                try:
                    reader.raise_end()
                except StopAsyncIteration:
                    return
            elif now >= clock.deadline():
                yield clock.timeout_error()
                return
            elif now >= clock.next_heartbeat:
                clock.heartbeat_at(now)
                yield HEARTBEAT
    finally:
        await close_shielded(reader.stop())


class _Reader:
    """Reads ``events`` in a task of its own, one event (and what is ready behind it) each time the consumer asks.

    The task lives as long as the stream rather than one per event: at tens of
    thousands of events a second, creating a task and a timer for every read
    cost more than the rest of the pacing. It reads only when asked, and then
    on only while the source says its next event is already decoded, so
    backpressure stays the consumer's; the consumer's wake-up timer is
    armed lazily: it fires at most once per heartbeat interval and is moved
    only when it would fire too late.
    """

    def __init__(self, events: AsyncIterator[StreamEvent], loop: asyncio.AbstractEventLoop, backlog: Backlog) -> None:
        self._events = events
        self._loop = loop
        self._asked: asyncio.Future[None] = loop.create_future()
        self._requested = False
        self._backlog = backlog
        self._held = backlog.held
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._task = loop.create_task(self._read_when_asked())
        self._task.add_done_callback(self._wake)

    @property
    def has_event(self) -> bool:
        return bool(self._held)

    @property
    def ended(self) -> bool:
        """The source is exhausted, failed or was cancelled; :meth:`raise_end` says which."""
        return self._task.done()

    def take(self) -> StreamEvent:
        held = self._held
        event = held.popleft()
        if not held:
            self._requested = False
        return event

    def raise_end(self) -> None:
        """Raise what ended the source: ``StopAsyncIteration`` when it simply ran out."""
        self._task.result()

    async def wait(self, until: float) -> None:
        """Ask for the next event, then wait until it is here, the source ends, or ``until`` (loop time)."""
        if self._held or self._task.done():
            return
        if not self._requested:
            self._requested = True
            if not self._asked.done():
                self._asked.set_result(None)
        if self._timer is None or self._timer_at > until:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_at = self._loop.call_at(until, self._timer_fired), until
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _read_when_asked(self) -> None:
        events, held, ready = self._events, self._held, self._backlog.upstream_ready
        while True:
            await self._asked
            self._asked = self._loop.create_future()
            event = await anext(events)
            held.append(event)
            while ready() and not isinstance(event, TERMINAL):
                event = await anext(events)
                held.append(event)
            self._wake()

    def _timer_fired(self) -> None:
        self._timer = None
        self._wake()

    def _wake(self, _: object = None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def stop(self) -> None:
        """Cancel a pending read (which unwinds the upstream), then close the iterator."""
        if self._timer is not None:
            self._timer.cancel()
        task = self._task
        if not task.done():
            task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved
        close = getattr(self._events, "aclose", None)
        if close is not None:
            await close()
