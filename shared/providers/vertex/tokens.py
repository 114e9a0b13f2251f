"""One backend's access token, shared by every stream and refreshed one fetch at a time.

Google access tokens live about an hour. Every stream of a backend uses the
cached token; when it is close to expiry, or upstream has just refused it,
the next caller starts one fetch and every other caller awaits that same
fetch, however many there are. The fetch itself is blocking (google-auth), so
it runs in a worker thread and the event loop keeps serving other streams.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

# Refresh this long before expiry, or after three quarters of a short token's life.
REFRESH_MARGIN_SECONDS = 300.0


class TokenRejected(Exception):
    """Upstream answered 401 to a token: renew it and send the request once more."""


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and its lifetime in wall-clock seconds; no expiry means none is known."""

    value: str
    fetched_at: float
    expires_at: float | None = None

    def fresh(self, now: float) -> bool:
        """True until the refresh margin before expiry."""
        if self.expires_at is None:
            return True
        lifetime = self.expires_at - self.fetched_at
        return now < self.expires_at - min(REFRESH_MARGIN_SECONDS, lifetime / 4)


class TokenCache:
    """The cached token of one backend plus single-flight refreshes.

    ``fetch`` is synchronous and may block on the network; it is only ever
    called in a worker thread, and never twice at once.
    """

    def __init__(self, fetch: Callable[[], AccessToken], clock: Callable[[], float] = time.time) -> None:
        self._fetch = fetch
        self._clock = clock
        self._current: AccessToken | None = None
        self._pending: asyncio.Future[AccessToken] | None = None

    async def token(self) -> str:
        """The cached token while it is fresh; otherwise the result of the one refresh."""
        current = self._current
        if current is not None and current.fresh(self._clock()):
            return current.value
        return (await self._refresh()).value

    async def renew(self, rejected: str) -> str:
        """A token other than ``rejected``, which upstream has just refused.

        When many streams are refused the same token at once, the first starts
        a refresh and the rest share it or find its result already cached.
        """
        current = self._current
        if current is not None and current.value != rejected:
            return current.value
        return (await self._refresh()).value

    async def _refresh(self) -> AccessToken:
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._fetch_in_thread())
            self._pending.add_done_callback(_observe)
        # A caller that goes away must not cancel the fetch the others await.
        return await asyncio.shield(self._pending)

    async def _fetch_in_thread(self) -> AccessToken:
        try:
            token = await asyncio.to_thread(self._fetch)
            self._current = token
            return token
        finally:
            self._pending = None


def _observe(fetch: asyncio.Future[AccessToken]) -> None:
    """Mark a failed fetch's exception as seen: its waiters may all have left."""
    if not fetch.cancelled():
        fetch.exception()
