"""A raw HTTP/1.1 upstream on loopback that records each request exactly as it arrived.

For tests that must see what the relay put on the wire (request line, every
header, body bytes), which the emulators do not record.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

SSE = b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


@dataclass
class Seen:
    """One request as the server read it: request line, headers (lower-cased names) and body."""

    line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    url: str
    seen: list[Seen] = field(default_factory=list)


def reply(status: int, body: bytes, content_type: bytes, extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (status, content_type, len(body))
    return head + extra + b"\r\n" + body


@asynccontextmanager
async def upstream(answer: bytes = reply(200, SSE, b"text/event-stream")) -> AsyncIterator[Upstream]:
    """A raw HTTP/1.1 server on loopback recording every request and giving each ``answer``."""
    server: Upstream

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                line, *fields = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields if f)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                server.seen.append(Seen(line, headers, body))
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    server = Upstream(f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}")
    async with listener:
        yield server
