"""A deadline on each request head, which uvicorn does not have.

uvicorn closes a keep-alive connection that idles after a response, but a
connection that never finishes its request line and headers (a client that
connects and says nothing, or sends one byte a second) stays open for as long
as the client likes. The relay's own body deadline cannot help: the app is
not called until the headers are complete. This protocol gives every request
head ``seconds`` to arrive, counted from the connection or from the previous
response, then closes the connection, as Kestrel does in front of the
Functions worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as BaseProtocol
except ImportError:  # pragma: no cover - httptools is a requirement; h11 is uvicorn's fallback
    BaseProtocol = H11Protocol  # type: ignore[assignment,misc]


def head_deadline_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, closing connections whose request head takes over ``seconds``."""

    class HeadDeadlineProtocol(BaseProtocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._await_head()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._cancel_head_timer()
            if not self.transport.is_closing():
                waiting_after = self.cycle  # a new head replaces the cycle; the same one means none came
                self._head_timer = self.loop.call_later(seconds, self._head_overdue, waiting_after)

        def _head_overdue(self, waiting_after: object) -> None:
            self._head_timer = None
            if self.cycle is waiting_after and not self.transport.is_closing():
                self.transport.close()

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

    return HeadDeadlineProtocol
