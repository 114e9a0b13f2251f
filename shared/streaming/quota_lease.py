"""The quota lease of one admitted request: reserved on admission, settled from the final usage.

An :class:`Admission` holds the caller, the request as forwarded, and the lease.

Two hooks close the lease on every path. :meth:`Admission.attempt` wraps
opening the upstream and releases the lease, uncharged, if opening fails.
:meth:`Admission.meter` wraps the canonical event stream of any dialect and
settles the lease with the stream's final usage before the terminal event
goes out, or, if the stream ends without usage (the client left, the upstream
broke), with the whole reservation. Closing the lease is shielded from
cancellation, so a client that disconnects cannot skip its debit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from ..auth.identity import Identity
from ..chat_request import ChatRequest
from ..events import Finish, StreamError, Usage
from ..limits import Limiter, Ticket
from .cancellation import close_shielded

logger = logging.getLogger(__name__)

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
            close = getattr(events, "aclose", None)
            if close is not None:
                await close_shielded(close())

    async def _close(self, usage: Usage | None, *, charge: bool) -> None:
        """Close the lease once; whatever fails while settling, the slot is released.

        The charge is computed before the lease is marked closed, and a settle
        that fails falls back to a plain release, so no failure here can keep
        a concurrency slot held until the lease expires.
        """
        if not self._open:
            return
        used = tokens_used(usage) if charge else None
        self._open = False
        if self.ticket is None or self.limiter is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                if charge:
                    await self.limiter.settle(self.ticket, used)
                else:
                    await self.limiter.release(self.ticket)
            except Exception:
                logger.exception("settling the quota lease of %s failed; releasing it", self.ticket.subject)
                await self.limiter.release(self.ticket)


def tokens_used(usage: Usage | None) -> int | None:
    """The tokens to charge, or None (the whole reservation) when usage is missing or not two counts."""
    if usage is None:
        return None
    counts = (usage.prompt_tokens, usage.completion_tokens)
    if all(isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in counts):
        return usage.prompt_tokens + usage.completion_tokens
    logger.warning("usage of a stream is not two token counts; charging the whole reservation")
    return None
