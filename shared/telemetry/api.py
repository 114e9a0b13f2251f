"""What the pure core may call: the per-request and per-attempt hooks, and their do-nothing stand-ins.

:class:`~shared.streaming.request_record.RequestTrace` holds a
:class:`RequestHooks` only when telemetry is on; otherwise it holds None and
pays one ``is None`` check per hook. Nothing here imports OpenTelemetry, so
the relay and the streaming stages stay free of it.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..providers.contract import BackendSettings
    from ..streaming.request_record import RequestTrace


class AttemptHooks(Protocol):
    """One upstream attempt: entered while the backend opens, failed or committed."""

    def __enter__(self) -> AttemptHooks: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def fail(self, error_type: str, backend_state: str | None = None) -> None:
        """The attempt ended without a stream; ``backend_state`` is the router's condition after it."""

    def commit(self) -> None:
        """The stream is committed to this attempt; it lasts until the request finishes."""


class RequestHooks(Protocol):
    """One request's telemetry, from the moment it arrives until its stream ends."""

    @property
    def trace_id(self) -> str | None: ...

    def attempt(self, backend: BackendSettings) -> AttemptHooks: ...

    def current(self) -> Any:
        """A context manager making the request's span current while the relay opens upstream."""

    def first_token(self) -> None: ...

    def heartbeat(self) -> None:
        """A keep-alive was sent while the upstream was quiet; rare, so one span event each."""

    def finish(self, trace: RequestTrace) -> None: ...


class _NoAttempt:
    """The attempt hooks when telemetry is off: one shared instance, no work."""

    def __enter__(self) -> _NoAttempt:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None

    def fail(self, error_type: str, backend_state: str | None = None) -> None:
        return None

    def commit(self) -> None:
        return None


NO_ATTEMPT: AttemptHooks = _NoAttempt()
