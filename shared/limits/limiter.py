"""Per-client rate limits and token budgets, kept in a ledger store.

``acquire`` admits a request (or raises ``TooManyRequests`` with a
Retry-After) and returns a ticket; every ticket is closed exactly once, by
``settle`` with the stream's final usage or by ``release`` when the request
never reached a model.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import ledger
from .ledger import Lease
from .settings import Quota, QuotaSettings
from .store import Change, LedgerStore, MemoryStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ticket:
    """An admitted request's lease: whose it is and how many tokens it reserved."""

    subject: str
    lease_id: str
    tokens: int


class Limiter:
    """Applies each profile's quota to the clients of that profile."""

    def __init__(self, settings: QuotaSettings, store: LedgerStore, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self._clock = clock

    @classmethod
    def build(cls, settings: QuotaSettings, environ: Mapping[str, str]) -> Limiter:
        """A limiter on the configured store."""
        if settings.store == "table":
            from .table_store import TableStore

            return cls(settings, TableStore.build(settings.table, environ))
        return cls(settings, MemoryStore())

    def quota(self, profile: str) -> Quota:
        """The quota of ``profile``, or of ``default``, or none at all."""
        return self.settings.profiles.get(profile) or self.settings.profiles.get("default") or Quota()

    async def acquire(self, subject: str, profile: str, tokens: int) -> Ticket | None:
        """Admit one request that may use up to ``tokens``; None when nothing needs settling."""
        quota = self.quota(profile)
        if quota == Quota():
            return None
        holds = quota.concurrent_streams is not None or quota.tokens_per_day is not None
        lease_id = uuid.uuid4().hex[:16] if holds else None
        now = self._clock()
        lease = Lease(expires_at=now + self.settings.lease_seconds, tokens=tokens)
        await self.store.update(subject, lambda state: ledger.open_lease(state, quota, lease_id, lease, now))
        return Ticket(subject, lease_id, tokens) if lease_id is not None else None

    async def settle(self, ticket: Ticket, used: int | None) -> None:
        """Close the lease, charging ``used`` tokens (the whole reservation when None)."""
        now = self._clock()
        await self._close(ticket, lambda state: ledger.settle(state, ticket.lease_id, used, now))

    async def release(self, ticket: Ticket) -> None:
        """Close the lease without charging."""
        now = self._clock()
        await self._close(ticket, lambda state: ledger.release(state, ticket.lease_id, now))

    async def _close(self, ticket: Ticket, change: Change) -> None:
        try:
            await self.store.update(ticket.subject, change)
        except Exception:
            # The stream is over; an unclosed lease expires and is charged in full, never lost.
            logger.exception("could not close the quota lease of %s; it will expire", ticket.subject)

    async def aclose(self) -> None:
        await self.store.aclose()
