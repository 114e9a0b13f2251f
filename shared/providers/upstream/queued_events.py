"""The skeleton of a provider reader that queues the events of each network read.

Bedrock's ConverseStream reader and Gemini's native SSE reader both decode a
whole received segment at once. Queuing its events, rather than yielding them
from a generator, lets the reader say (:meth:`QueuedEvents.ready`) when the
next event needs no network wait: the relay's pacing reader then takes every
event of one read in the same wake-up and the client gets them in one write.
A failure waits behind the events that came before it, so text that arrived
in the same segment as a broken frame still reaches the client. Subclasses
supply :meth:`QueuedEvents._read` and :meth:`QueuedEvents.aclose`, which
must release the connection even if iteration never started.
"""

from __future__ import annotations

from collections import deque

from ...errors import RelayError
from ...events import StreamEvent


class QueuedEvents:
    """An async iterator over queued events, refilled one network read at a time."""

    def __init__(self) -> None:
        self._pending: deque[StreamEvent] = deque()
        self._failure: RelayError | None = None
        self._ended = False

    def __aiter__(self) -> QueuedEvents:
        return self

    def ready(self) -> bool:
        """Whether the next event is queued already, so reading it will not wait for the network."""
        return bool(self._pending)

    async def __anext__(self) -> StreamEvent:
        while not self._pending:
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure
            if self._ended:
                raise StopAsyncIteration
            await self._read()
        return self._pending.popleft()

    async def _read(self) -> None:
        """Wait for the next bytes and queue every event they complete (or set ``_failure`` / ``_ended``)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        raise NotImplementedError
