"""Clean-up that survives cancellation: closing an upstream or a lease after the client has gone."""

from __future__ import annotations

from collections.abc import Awaitable

import anyio

# Closing an upstream is a socket close; anything slower is abandoned rather than awaited.
CLOSE_TIMEOUT_SECONDS = 2.0


async def close_shielded(closing: Awaitable[None]) -> None:
    """Await a clean-up step even while the surrounding task is being cancelled.

    When a client disconnects, the server cancels the task that streams the
    response; without a shield the very first await of the clean-up would be
    cancelled too, and the upstream would keep generating unread tokens.
    """
    with anyio.move_on_after(CLOSE_TIMEOUT_SECONDS, shield=True):
        await closing
