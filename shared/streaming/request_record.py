"""The request record, one structured log line per chat request: where it went, how long it took, how it ended.

The line is JSON on the ``relay.requests`` logger, so a log pipeline can
parse it without a custom format. It carries names, counts and timings only:
never prompt or completion text, never keys or upstream URLs. When telemetry
is on, the same moment ends the request's spans and records its metrics
(:mod:`shared.telemetry`), and the line carries the trace id.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..events import Finish, Heartbeat, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..telemetry.api import NO_ATTEMPT, AttemptHooks, RequestHooks

if TYPE_CHECKING:
    from ..providers.contract import BackendSettings

logger = logging.getLogger("relay.requests")

CLIENT_DISCONNECTED = "client_disconnected"
NOT_CURRENT: AbstractContextManager[Any] = nullcontext()
OK = "ok"


@dataclass
class RequestTrace:
    """What is known about one request so far; :meth:`finish` writes the line, once."""

    clock: Callable[[], float] = time.monotonic
    started_at: float = field(default=0.0)
    alias: str | None = None
    stream: bool | None = None
    backend: str | None = None
    attempts: int = 0
    first_token_at: float | None = None
    usage: Usage | None = None
    outcome: str | None = None
    client: str | None = None
    chunks: int = 0
    heartbeats: int = 0
    telemetry: RequestHooks | None = None

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def note(self, event: StreamEvent) -> None:
        """Record the first token, the output chunks, heartbeats and the usage as they pass; counts only."""
        if isinstance(event, TextDelta | ReasoningDelta | ToolCallDelta):
            self.chunks += 1
            if self.first_token_at is None:
                self.first_token_at = self.clock()
                if self.telemetry is not None:
                    self.telemetry.first_token()
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Heartbeat):
            self.heartbeats += 1
            if self.telemetry is not None:
                self.telemetry.heartbeat()

    def attempt(self, backend: BackendSettings) -> AttemptHooks:
        """The telemetry of one upstream attempt (its span, current while it opens); nothing when off."""
        return NO_ATTEMPT if self.telemetry is None else self.telemetry.attempt(backend)

    def current(self) -> AbstractContextManager[Any]:
        """While entered, the request's span is the current one (what upstream propagation reads); off: nothing."""
        return NOT_CURRENT if self.telemetry is None else self.telemetry.current()

    def finish(self, outcome: str) -> None:
        """Set the outcome and write the log line; later calls do nothing."""
        if self.outcome is not None:
            return
        self.outcome = outcome
        try:
            logger.info(json.dumps(self.fields(), separators=(",", ":")))
        finally:
            if self.telemetry is not None:
                self._finish_telemetry(self.telemetry)

    def _finish_telemetry(self, telemetry: RequestHooks) -> None:
        """End the spans and record the metrics; a telemetry failure is logged, never the stream's problem."""
        try:
            telemetry.finish(self)
        except Exception:
            logger.warning("telemetry failed to record a request", exc_info=True)

    def fields(self) -> dict[str, Any]:
        """The log line's fields; times in milliseconds."""
        return {
            "alias": self.alias,
            "stream": self.stream,
            "backend": self.backend,
            "attempts": self.attempts,
            "ttft_ms": _ms(self.first_token_at, self.started_at),
            "duration_ms": _ms(self.clock(), self.started_at),
            "tokens_in": self.usage.prompt_tokens if self.usage else None,
            "tokens_out": self.usage.completion_tokens if self.usage else None,
            "outcome": self.outcome,
            "trace_id": self.telemetry.trace_id if self.telemetry is not None else None,
        }


async def traced_events(
    events: AsyncGenerator[StreamEvent, None], trace: RequestTrace
) -> AsyncGenerator[StreamEvent, None]:
    """``events`` unchanged, noting them in ``trace`` and finishing it however the stream ends."""
    outcome = CLIENT_DISCONNECTED
    try:
        async for event in events:
            trace.note(event)
            if isinstance(event, Finish):
                outcome = OK
            elif isinstance(event, StreamError):
                outcome = event.code
            yield event
    finally:
        try:
            trace.finish(outcome)
        finally:
            await events.aclose()


def _ms(end: float | None, start: float) -> int | None:
    return None if end is None else round((end - start) * 1000)
