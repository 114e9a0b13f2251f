"""What each emulator saw: one record per upstream request, disconnects included.

Tests use the records to prove what cannot be seen from the client side, such
as "the relay closed the upstream connection within a second of the browser
going away", "fifty streams caused exactly one token request" or "the
upstream request carried the client's trace id".
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any

_ids = itertools.count(1)


@dataclass
class RequestRecord:
    """One upstream request as the emulator saw it."""

    path: str
    key: str
    auth: str
    body: Any = None
    traceparent: str | None = None
    id: int = field(default_factory=lambda: next(_ids))
    status: int = 200
    started_at: float = field(default_factory=time.monotonic)
    frames_sent: int = 0
    outcome: str = "open"
    client_disconnected: bool = False
    disconnected_at: float | None = None
    finished_at: float | None = None
    _finished: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def finish(self, outcome: str) -> None:
        """Close the record once; the first outcome wins."""
        if self.finished_at is None:
            self.outcome = outcome
            self.finished_at = time.monotonic()
            self._finished.set()

    def wait_finished(self, timeout: float = 5.0) -> RequestRecord:
        """This record once its outcome is known.

        A client can read the last byte of a response before the emulator's
        task resumes after sending it, so an outcome written after the final
        send is not yet visible when the client returns. Readers on another
        thread wait here instead of racing that task.
        """
        if not self._finished.wait(timeout):
            raise TimeoutError(f"request {self.id} still {self.outcome!r} after {timeout} s")
        return self

    def mark_disconnected(self) -> None:
        """The client (the relay) went away before the response ended."""
        if not self.client_disconnected:
            self.client_disconnected = True
            self.disconnected_at = time.monotonic()
        self.finish("disconnected")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the admin API."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


@dataclass
class Recorder:
    """The request log of one emulator."""

    records: list[RequestRecord] = field(default_factory=list)
    token_requests: int = 0

    def start(self, path: str, key: str, auth: str, body: Any = None, traceparent: str | None = None) -> RequestRecord:
        """Open a record for a request that has just arrived; ``traceparent`` is its W3C header, if any."""
        record = RequestRecord(path=path, key=key, auth=auth, body=body, traceparent=traceparent)
        self.records.append(record)
        return record

    def clear(self) -> None:
        """Forget everything seen so far."""
        self.records.clear()
        self.token_requests = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the admin API."""
        return {
            "requests": [record.as_dict() for record in self.records],
            "token_requests": self.token_requests,
        }
