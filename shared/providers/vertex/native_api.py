"""Gemini's native ``streamGenerateContent?alt=sse``, over an async ``httpx2`` client.

``httpx2`` is the HTTP client the ``openai`` SDK itself runs on, so the relay
keeps one client API; both send on aiohttp (:mod:`..upstream.aiohttp_transport`),
whose reader costs a fraction of httpx2's default transport per chunk. The
response is SSE framed with ``\\r\\n\\r\\n`` and has no ``[DONE]``: the
stream is complete when the server ends the body after a chunk that carried
``finishReason``.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import httpx2

from ...chat_request import ChatRequest
from ...errors import RelayError
from ...events import StreamEvent
from ..contract import UpstreamStream
from ..upstream import fast_json
from ..upstream.aiohttp_transport import AiohttpTransport
from ..upstream.failures import failed, lost_mid_stream, not_a_json_object, timed_out, unreachable
from ..upstream.headers import routing_headers
from ..upstream.sse_decoder import ServerSentEvent, SSEDecoder
from .google_errors import error_fields, status_error, stream_error
from .native_request import gemini_request
from .native_response import ResponseTranslator
from .settings import VertexSettings
from .tokens import TokenRejected

# As many concurrent streams per backend as the openai SDK allows by default.
MAX_CONNECTIONS = 1000


class NativeApi:
    """The Gemini REST API of one backend; one connection pool shared by its streams."""

    def __init__(self, settings: VertexSettings) -> None:
        self._settings = settings
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(None, connect=settings.connect_timeout_seconds),
            transport=AiohttpTransport(max_connections=MAX_CONNECTIONS),
        )

    def prepare(self, request: ChatRequest) -> bytes:
        """The request body, translated once and reused by a retry."""
        return json.dumps(gemini_request(request), ensure_ascii=False).encode()

    async def send(self, body: bytes, token: str) -> UpstreamStream:
        """Open the stream with ``token``; a 401 raises ``TokenRejected``."""
        name = self._settings.name
        request = self._client.build_request(
            "POST",
            self._settings.stream_url,
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"},
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx2.TimeoutException as exc:
            raise timed_out(name) from exc
        except httpx2.TransportError as exc:
            raise unreachable(name) from exc
        if response.status_code != 200:
            await self._refuse(response)
        return UpstreamStream(events=native_events(response, name), headers=routing_headers(response.headers.items()))

    async def _refuse(self, response: httpx2.Response) -> None:
        """Raise the error a non-200 answer stands for, after reading its small body."""
        name = self._settings.name
        try:
            raw = await response.aread()
        except httpx2.TransportError as exc:
            raise failed(name, f"HTTP {response.status_code}") from exc
        finally:
            await response.aclose()
        if response.status_code == 401:
            raise TokenRejected(name)
        raise status_error(response.status_code, _json_or_none(raw), response.headers, name)

    async def aclose(self) -> None:
        await self._client.aclose()


def native_events(response: httpx2.Response, backend: str) -> NativeEvents:
    """Canonical events from the SSE body; the connection is released on every path."""
    return NativeEvents(response, backend)


class NativeEvents:
    """The canonical events of one native stream, decoded and translated as bytes arrive.

    An iterator class rather than a generator, so it can say (:meth:`ready`)
    when its next event is already translated: the relay's pacing reader then
    takes every event of one read in the same wake-up, and the client gets them
    in one write. A failure is raised after the events that came before it;
    :meth:`aclose` releases the connection even if iteration never started.
    """

    def __init__(self, response: httpx2.Response, backend: str) -> None:
        self._response = response
        self._backend = backend
        self._bytes = response.aiter_bytes()
        self._decoder = SSEDecoder()
        self._translator = ResponseTranslator()
        self._pending: deque[StreamEvent] = deque()
        self._failure: RelayError | None = None
        self._ended = False

    def __aiter__(self) -> NativeEvents:
        return self

    def ready(self) -> bool:
        """Whether the next event is translated already, so reading it will not wait for the network."""
        return bool(self._pending)

    async def __anext__(self) -> StreamEvent:
        while not self._pending:
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure
            if self._ended:
                raise StopAsyncIteration
            await self._read()
        return self._pending.popleft()

    async def _read(self) -> None:
        """Wait for the next bytes and queue every event they complete, in order."""
        try:
            chunk = await anext(self._bytes)
        except StopAsyncIteration:
            self._translate(self._decoder.close())
            self._end()
            await self.aclose()
            return
        except httpx2.TransportError as exc:
            failure = lost_mid_stream(self._backend)
            failure.__cause__ = exc
            self._failure = failure
            await self.aclose()
            return
        except BaseException:  # cancelled: the client went away
            await self.aclose()
            raise
        self._translate(self._decoder.feed(chunk))
        if self._failure is not None:
            await self.aclose()

    def _translate(self, events: list[ServerSentEvent]) -> None:
        translate, pending = self._translator.events, self._pending
        for sse in events:
            try:
                pending.extend(translate(chunk_document(sse.data)))
            except RelayError as exc:
                self._failure = exc
                return

    def _end(self) -> None:
        """The body ended: usage and the finish, or the failure the translator raises after the usage."""
        if self._failure is not None:
            return
        try:
            for event in self._translator.end():
                self._pending.append(event)
        except RelayError as exc:
            self._failure = exc

    async def aclose(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        self._ended = True
        await self._bytes.aclose()
        await self._response.aclose()


def chunk_document(data: str) -> dict[str, Any]:
    """One event's JSON: a response chunk, or an error raised as a relay error."""
    document = _json_or_none(data)
    if not isinstance(document, dict):
        raise not_a_json_object()
    if "error" in document:
        raise stream_error(error_fields(document))
    return document


def _json_or_none(raw: bytes | str) -> Any:
    try:
        return fast_json.loads(raw) if raw else None
    except ValueError:
        return None
