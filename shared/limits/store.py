"""Where quota ledgers live: the contract, and the in-memory store.

``update`` reads a client's ledger, applies a pure change and writes the
result, atomically: a concurrent update of the same client is never lost.
A change that raises (a refusal) writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from .ledger import Ledger

Change = Callable[[Ledger], Ledger]


class LedgerStore(Protocol):
    async def update(self, subject: str, change: Change) -> Ledger:
        """Apply ``change`` to ``subject``'s ledger atomically and return the result."""
        ...

    async def read(self, subject: str) -> Ledger:
        """``subject``'s ledger as stored."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """Ledgers in this process only: limits hold per instance. The default."""

    def __init__(self) -> None:
        self._ledgers: dict[str, Ledger] = {}
        self._lock = threading.Lock()

    async def update(self, subject: str, change: Change) -> Ledger:
        with self._lock:
            changed = change(self._ledgers.get(subject, Ledger()))
            self._ledgers[subject] = changed
            return changed

    async def read(self, subject: str) -> Ledger:
        with self._lock:
            return self._ledgers.get(subject, Ledger())

    async def aclose(self) -> None:
        return None
