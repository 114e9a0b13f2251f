"""Gemini's native ``streamGenerateContent?alt=sse``, posted straight on aiohttp.

The pool is the one the OpenAI-protocol backends use
(:mod:`..upstream.aiohttp_transport`); requests skip httpx2's request and
response objects, which cost more CPU per opened stream than the rest of
this module, and the body is serialised once with orjson. ``HTTPS_PROXY``
(less ``NO_PROXY``) is honoured, read once. The
response is SSE framed with ``\\r\\n\\r\\n`` and has no ``[DONE]``: the
stream is complete when the server ends the body after a chunk that carried
``finishReason``.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from yarl import URL

from ...chat_request import ChatRequest
from ...errors import RelayError
from ...telemetry.propagation import upstream_trace_headers
from ..contract import UpstreamStream
from ..upstream import fast_json
from ..upstream.aiohttp_transport import AiohttpTransport, environment_proxy
from ..upstream.failures import failed, lost_mid_stream, not_a_json_object, timed_out, unreachable
from ..upstream.headers import routing_headers
from ..upstream.queued_events import QueuedEvents
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
        self._url = URL(settings.stream_url)  # parsed once
        self._transport = AiohttpTransport(max_connections=MAX_CONNECTIONS)
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout_seconds)
        self._proxy = environment_proxy(settings.stream_url)

    def prepare(self, request: ChatRequest) -> bytes:
        """The request body, translated once and reused by a retry."""
        return orjson.dumps(gemini_request(request))

    async def send(self, body: bytes, token: str) -> UpstreamStream:
        """Open the stream with ``token``; a 401 raises ``TokenRejected``."""
        name = self._settings.name
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"}
        try:
            response = await self._transport.pool().post(
                self._url,
                data=body,
                headers=headers | upstream_trace_headers(),
                allow_redirects=False,
                timeout=self._timeout,
                proxy=self._proxy,
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise timed_out(name) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unreachable(name) from exc
        if response.status != 200:
            await self._refuse(response)
        return UpstreamStream(events=native_events(response, name), headers=routing_headers(response.headers.items()))

    async def _refuse(self, response: aiohttp.ClientResponse) -> None:
        """Raise the error a non-200 answer stands for, after reading its small body."""
        name = self._settings.name
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise failed(name, f"HTTP {response.status}") from exc
        finally:
            response.release()
        if response.status == 401:
            raise TokenRejected(name)
        raise status_error(response.status, _json_or_none(raw), response.headers, name)

    async def aclose(self) -> None:
        await self._transport.aclose()


def native_events(response: aiohttp.ClientResponse, backend: str) -> NativeEvents:
    """Canonical events from the SSE body; the connection is released on every path."""
    return NativeEvents(response, backend)


class NativeEvents(QueuedEvents):
    """The canonical events of one native stream, decoded and translated as bytes arrive.

    A :class:`~..upstream.queued_events.QueuedEvents`, so one read's events go
    out in one write and a failure is raised after the events before it;
    :meth:`aclose` releases the connection even if iteration never started.
    """

    def __init__(self, response: aiohttp.ClientResponse, backend: str) -> None:
        super().__init__()
        self._response = response
        self._backend = backend
        self._content = response.content
        self._decoder = SSEDecoder()
        self._translator = ResponseTranslator()

    async def _read(self) -> None:
        """Wait for the next bytes and queue every event they complete, in order."""
        try:
            chunk = await self._content.readany()
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = lost_mid_stream(self._backend)
            failure.__cause__ = exc
            self._failure = failure
            await self.aclose()
            return
        except BaseException:  # cancelled: the client went away
            await self.aclose()
            raise
        if not chunk:  # the server ended the body
            self._translate(self._decoder.close())
            self._end()
            await self.aclose()
            return
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
        self._response.release()


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
