"""Decode an SSE byte stream incrementally, exactly as the WHATWG spec describes.

Vertex's native stream ends each event with ``\\r\\n\\r\\n``; other servers use
``\\n\\n`` or bare ``\\r``. Bytes arrive cut anywhere (inside a UTF-8
character, between the ``\\r`` and ``\\n`` of one line ending), so the decoder
keeps whatever does not yet form a complete line and decodes only whole lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` unless named) and its data."""

    data: str
    event: str = "message"


class SSEDecoder:
    """A state machine fed bytes; :meth:`feed` returns the events they complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._data: list[str] = []
        self._event = ""
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Add bytes; return every event whose blank line has now arrived."""
        self._buffer += chunk
        events: list[ServerSentEvent] = []
        start = 0
        while match := _LINE_END.search(self._buffer, start):
            if match[0] == b"\r" and match.end() == len(self._buffer):
                break  # may be the first half of a CRLF split across chunks
            event = self._line(bytes(self._buffer[start : match.start()]))
            if event is not None:
                events.append(event)
            start = match.end()
        del self._buffer[:start]
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: a trailing CR ends its line; an event without its blank line is dropped."""
        held, self._buffer = bytes(self._buffer), bytearray()
        event = self._line(held[:-1]) if held.endswith(b"\r") else None
        return [event] if event is not None else []

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not self._started:
            self._started = True
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        line = raw.decode("utf-8", errors="replace")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message")
