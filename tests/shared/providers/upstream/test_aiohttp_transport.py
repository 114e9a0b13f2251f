"""The aiohttp transport under httpx2: bodies as they arrive, failures as httpx2's own transport names them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx2
import pytest

from shared.providers.upstream.aiohttp_transport import AiohttpTransport

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A raw HTTP/1.1 server on loopback; yields its URL and a count of connections accepted."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield f"http://127.0.0.1:{port}", connections


@asynccontextmanager
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=AiohttpTransport(max_connections=10)) as http:
        yield http


async def chunked(writer: asyncio.StreamWriter, *pieces: bytes, end: bool = True) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in pieces:
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
        await asyncio.sleep(0.02)
    if end:
        writer.write(b"0\r\n\r\n")
    await writer.drain()


async def test_each_piece_arrives_as_sent_and_the_connection_is_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await chunked(writer, b"data: 1\n\n", "data: 日本\n\n".encode())

    async with server(handler) as (url, connections), client() as http:
        for _ in range(2):
            async with http.stream("GET", url) as response:
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                assert [piece async for piece in response.aiter_bytes()] == [b"data: 1\n\n", "data: 日本\n\n".encode()]
        assert len(connections) == 1


async def test_a_body_cut_short_is_a_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await chunked(writer, b"data: 1\n\n", end=False)
        writer.transport.abort()

    async with server(handler) as (url, _), client() as http, http.stream("GET", url) as response:
        with pytest.raises(httpx2.ReadError):
            async for _ in response.aiter_bytes():
                pass


async def test_a_refused_connection_is_a_connect_error_not_a_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with client() as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get(closed)


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing until the client gives up

    async with server(handler) as (url, _), client() as http:
        with pytest.raises(httpx2.ReadTimeout):
            await http.post(url, content=b"{}", timeout=httpx2.Timeout(None, read=0.1))
