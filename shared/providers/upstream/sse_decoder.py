"""Decode an SSE byte stream incrementally, exactly as the WHATWG spec describes.

Servers end lines with ``\\n`` (OpenAI, Azure), ``\\r\\n`` (Vertex's native
stream) or a bare ``\\r``. Bytes arrive cut anywhere (inside a UTF-8
character, between the ``\\r`` and ``\\n`` of one line ending), so the decoder
keeps whatever does not yet form a complete line and decodes only whole lines.
Lines are split by ``bytes.splitlines``, which knows exactly these three
endings, so a read holding whole events costs one C call to split.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` unless named) and its data."""

    data: str
    event: str = "message"


class SSEDecoder:
    """A state machine fed bytes; :meth:`feed` returns the events they complete."""

    def __init__(self) -> None:
        self._held: list[bytes] = []  # the start of a line whose end has not arrived
        self._data: list[str] = []
        self._event = ""
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Add bytes; return every event whose blank line has now arrived."""
        held = self._held
        if held:
            if b"\n" not in chunk and b"\r" not in chunk and not held[-1].endswith(b"\r"):
                held.append(chunk)  # the line goes on; joined once its end arrives
                return []
            chunk = b"".join([*held, chunk])
            held.clear()
        lines = chunk.splitlines(keepends=True)
        if lines and not lines[-1].endswith(b"\n"):
            # No line end yet, or a CR that may be the first half of a CRLF.
            held.append(lines.pop())
        events: list[ServerSentEvent] = []
        for line in lines:
            event = self._line(line[:-2] if line.endswith(b"\r\n") else line[:-1])
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: a trailing CR ends its line; an event without its blank line is dropped."""
        held = b"".join(self._held)
        self._held.clear()
        event = self._line(held[:-1]) if held.endswith(b"\r") else None
        return [event] if event is not None else []

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not self._started:
            self._started = True
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", errors="replace")
        if line[0] == ":":
            return None
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
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
