"""One admitted request: its caller, the request as forwarded, and its quota lease.

Two hooks close the lease on every path. :meth:`Admission.attempt` wraps
opening the upstream and releases the lease, uncharged, if opening fails.
:meth:`Admission.meter` wraps the canonical event stream of any dialect and
settles the lease with the stream's final usage before the terminal event
goes out, or, if the stream ends without usage (the client left, the upstream
broke), with the whole reservation. Closing the lease is shielded from
cancellation, so a client that disconnects cannot skip its debit.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from .auth.identity import Identity
from .chat_request import ChatRequest
from .events import Finish, StreamError, Usage
from .limits import Limiter, Ticket

T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Admission:
    """What :meth:`shared.access.Access.admit` let through."""

    identity: Identity
    chat: ChatRequest
    ticket: Ticket | None = None
    limiter: Limiter | None = None
    _open: bool = field(default=True, repr=False)

    async def attempt(self, opening: Awaitable[T]) -> T:
        """Await ``opening``; if it fails, release the lease: no model ran, nothing is charged."""
        try:
            return await opening
        except BaseException:
            await self._close(None, charge=False)
            raise

    async def meter(self, events: AsyncIterator[E]) -> AsyncGenerator[E, None]:
        """``events`` unchanged, with the lease settled from the last ``Usage`` event."""
        usage: Usage | None = None
        try:
            async for event in events:
                if isinstance(event, Usage):
                    usage = event
                elif isinstance(event, (Finish, StreamError)):
                    await self._close(usage, charge=True)
                yield event
        finally:
            await self._close(usage, charge=True)

    async def _close(self, usage: Usage | None, *, charge: bool) -> None:
        if not self._open:
            return
        self._open = False
        if self.ticket is None or self.limiter is None:
            return
        with anyio.CancelScope(shield=True):
            if charge:
                await self.limiter.settle(self.ticket, usage.total_tokens if usage is not None else None)
            else:
                await self.limiter.release(self.ticket)
