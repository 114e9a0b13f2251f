"""SSE frames for the replay log: cut from a dialect's bytes, numbered with ``id:`` on the way out.

Every encoder writes whole events, each ending in a blank line, and JSON
never holds a raw newline, so cutting at blank lines yields exactly the
dialect's events. Comments (heartbeats) are dropped: each reader writes its
own while it waits. Pure: no SDK, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from ..dialects import typed_events
from ..dialects.openai_chat import error_body
from ..dialects.sse import data_frame, named_frame
from ..events import StreamError

CHAT = "chat"
TYPED = "typed"
RESPONSES = "responses"
DIALECTS = (CHAT, TYPED, RESPONSES)
END = "\n\n"

LOST = StreamError("stream_lost", "the instance generating this stream stopped; send the request again", retryable=True)
CANCELLED = StreamError("stream_cancelled", "the stream was cancelled (DELETE /api/v1/streams/{id})")
DETACHED = StreamError("stream_detached_limit", "generation stopped: no client read it for too long", retryable=True)
STORE_FAILED = StreamError("stream_store_unavailable", "the stream could not be recorded; please retry", retryable=True)


def frames_of(chunk: bytes) -> list[str]:
    """The events in one encoder output, without comments; each keeps its closing blank line."""
    text = chunk.decode()
    return [part + END for part in text.split(END) if part and not part.startswith(":")]


def numbered(number: int, frame: str) -> bytes:
    """``frame`` as sent: its number first, as the SSE ``id`` field EventSource remembers."""
    return f"id: {number}\n{frame}".encode()


def error_frame(dialect: str, error: StreamError, number: int) -> str:
    """A terminal error event in ``dialect``, for the stream's frame ``number``."""
    return _ERROR_FRAMES[dialect](error, number).decode()


def _responses_error(error: StreamError, number: int) -> bytes:
    # The Responses API's own ``error`` event; sequence numbers count from 0, frames from 1.
    body = {"type": "error", "sequence_number": number - 1, "code": error.code, "message": error.message, "param": None}
    return named_frame("error", body)


_ERROR_FRAMES: dict[str, Callable[[StreamError, int], bytes]] = {
    CHAT: lambda error, _: data_frame(error_body(error)),
    TYPED: lambda error, _: typed_events.error_event(error),
    RESPONSES: _responses_error,
}
