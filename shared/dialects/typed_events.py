"""The typed-event dialect for hand-written browser code: ``event: <type>`` + ``data: <json>``.

Each canonical event becomes one named SSE event, so a browser can switch on
the event type instead of digging through ``choices[0].delta``:

    text_delta {content}            thinking {content, signature?, redacted?, provider?}
    tool_call {index, id, name, arguments_delta, signature?}
    usage {prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens}
    done {finish_reason}            error {code, message, retryable}

A heartbeat is an SSE comment (``: keep-alive``), which readers ignore.

A stream ends with exactly one ``done`` or one ``error``. ``usage`` comes
right before it, after the last delta, whatever order the provider reported
it in (Vertex sends its counts with a chunk that still carries text).

``signature``/``redacted`` (with the ``provider`` that issued them) close a
block of signed reasoning, and a tool call's ``signature`` is Gemini's thought
signature; both are opaque, present only when the provider sent them, and
needed back (in the chat dialect's shape) to continue a tool-use conversation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sized
from typing import Any

from ..events import (
    Finish,
    Heartbeat,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UpstreamEvent,
    Usage,
)
from .sse import HEARTBEAT, named_frame
from .terminal import terminated


def encode_event(event: StreamEvent) -> bytes:
    """The named SSE event for one canonical event; a heartbeat is an SSE comment."""
    if isinstance(event, Heartbeat):
        return HEARTBEAT
    name, data = _typed(event)
    return named_frame(name, data)


def _typed(event: UpstreamEvent) -> tuple[str, dict[str, Any]]:
    if isinstance(event, TextDelta):
        return "text_delta", {"content": event.content}
    if isinstance(event, ReasoningDelta):
        return "thinking", _thinking(event)
    if isinstance(event, ToolCallDelta):
        call = {"index": event.index, "id": event.id, "name": event.name, "arguments_delta": event.arguments}
        return "tool_call", call if event.signature is None else {**call, "signature": event.signature}
    if isinstance(event, Usage):
        return "usage", {
            "prompt_tokens": event.prompt_tokens,
            "completion_tokens": event.completion_tokens,
            "total_tokens": event.total_tokens,
            "cached_tokens": event.cached_tokens,
            "reasoning_tokens": event.reasoning_tokens,
        }
    if isinstance(event, Finish):
        return "done", {"finish_reason": event.reason}
    error: dict[str, Any] = {"code": event.code, "message": event.message, "retryable": event.retryable}
    if event.retry_after is not None:
        error["retry_after"] = round(event.retry_after, 3)
    return "error", error


def _thinking(event: ReasoningDelta) -> dict[str, Any]:
    data: dict[str, Any] = {"content": event.content}
    if event.signature is not None:
        data["signature"] = event.signature
    if event.redacted is not None:
        data["redacted"] = event.redacted
    if event.provider is not None:
        data["provider"] = event.provider
    return data


def encode_stream(events: AsyncIterator[StreamEvent], backlog: Sized = ()) -> AsyncIterator[bytes]:
    """SSE bytes for a guarded event stream (heartbeats as comments); one terminal event always.

    ``backlog`` counts the events already read behind the current one (see :func:`.terminal.terminated`).
    """
    held = _HeldUsage()
    return terminated(events, held.encode, held.error, backlog)


def error_event(error: StreamError) -> bytes:
    """A terminal ``error`` event on its own, for failures before any event or inside the pipeline."""
    name, data = _typed(error)
    return named_frame(name, data)


class _HeldUsage:
    """One stream's encoder that keeps ``usage`` back until the terminal event, so it follows every delta."""

    def __init__(self) -> None:
        self.usage: Usage | None = None

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, Usage):
            self.usage = event
            return b""
        if isinstance(event, Finish | StreamError):
            return self._release() + encode_event(event)
        return encode_event(event)

    def error(self, error: StreamError) -> bytes:
        return self._release() + error_event(error)

    def _release(self) -> bytes:
        usage, self.usage = self.usage, None
        return b"" if usage is None else encode_event(usage)
