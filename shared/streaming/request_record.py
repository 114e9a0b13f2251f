"""The request record, one structured log line per chat request: where it went, how long it took, how it ended.

The line is JSON on the ``relay.requests`` logger, so a log pipeline can
parse it without a custom format. It carries names, counts and timings only:
never prompt or completion text, never keys or upstream URLs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..events import Finish, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage

logger = logging.getLogger("relay.requests")

CLIENT_DISCONNECTED = "client_disconnected"
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

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def note(self, event: StreamEvent) -> None:
        """Record the first token and the usage as they pass."""
        if isinstance(event, TextDelta | ReasoningDelta | ToolCallDelta) and self.first_token_at is None:
            self.first_token_at = self.clock()
        elif isinstance(event, Usage):
            self.usage = event

    def finish(self, outcome: str) -> None:
        """Set the outcome and write the log line; later calls do nothing."""
        if self.outcome is not None:
            return
        self.outcome = outcome
        logger.info(json.dumps(self.fields(), separators=(",", ":")))

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
