"""The open throttle: a burst of new requests opens over several loop turns, so flowing streams keep the loop.

Opening a stream costs the event loop about a millisecond of CPU (parsing,
validation, the SDK building and signing the upstream request), and every
request that arrives in one loop turn starts in the same turn: 500 at once
hold the loop for a third of a second, and every open stream stutters by that
much. The upstream then answers them together and the next steps repeat the
same pile-up. :class:`OpenThrottle` lets a few opens start per loop turn and
queues the rest in arrival order, so flowing streams get the loop between
batches. Requests that arrive at an ordinary rate pass straight through; in a
burst, the later ones wait a few turns for their first token.
"""

from __future__ import annotations

import asyncio
from collections import deque


class OpenThrottle:
    """At most ``per_turn`` callers of :meth:`wait_turn` proceed per event-loop turn; the rest wait in order."""

    def __init__(self, per_turn: int) -> None:
        self._per_turn = per_turn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = 0
        self._turn_scheduled = False
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def wait_turn(self) -> None:
        """Return in this turn if the turn has room and nobody is waiting, else in a later one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): nothing of the old one carries over
            self._loop, self._started, self._turn_scheduled = loop, 0, False
            self._waiting.clear()
        if not self._turn_scheduled:
            self._turn_scheduled = True
            loop.call_soon(self._next_turn)
        if self._started < self._per_turn and not self._waiting:
            self._started += 1
            return
        ticket: asyncio.Future[None] = loop.create_future()
        self._waiting.append(ticket)
        await ticket  # a caller cancelled while waiting leaves a cancelled ticket, skipped below

    def _next_turn(self) -> None:
        self._started = 0
        while self._waiting and self._started < self._per_turn:
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(None)
                self._started += 1
        if self._waiting or self._started:
            assert self._loop is not None
            self._loop.call_soon(self._next_turn)
        else:
            self._turn_scheduled = False
