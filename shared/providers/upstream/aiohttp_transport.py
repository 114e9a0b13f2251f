"""An ``httpx2`` transport on ``aiohttp``, for the ``openai`` SDK's HTTP client.

The SDK sends every request through an ``httpx2.AsyncClient``; its default
transport (httpcore2, h11 and anyio) costs several times more CPU per
streamed chunk than aiohttp's C-accelerated reader. This transport sends the
request httpx2 built on an aiohttp connection pool and hands back an
``httpx2.Response`` whose body is read as aiohttp receives it, so the SDK's
URLs, headers, timeouts and exceptions stay the SDK's. The openai package
ships a similar transport (``DefaultAioHttpClient``), but it reports a
refused connection as a connect *timeout*; here aiohttp's failures map to
the httpx2 exceptions httpx2's own transport raises for the same failure.
Every request also carries the current W3C trace context, so this is the
one place trace context reaches the SDK-driven upstreams.
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import httpx2

from ...telemetry.propagation import upstream_trace_headers


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2 requests on one aiohttp connection pool, made on first use."""

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def pool(self) -> aiohttp.ClientSession:
        """The pool; aiohttp sessions belong to the running event loop, so it is made on first use."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                auto_decompress=False,  # httpx2 decodes Content-Encoding, as with its own transport
                skip_auto_headers=("Accept-Encoding",),
                cookie_jar=aiohttp.DummyCookieJar(),  # stateless APIs; a jar is filtered and updated per request
            )
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = request.extensions.get("timeout", {})
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        headers += upstream_trace_headers().items()  # every SDK request passes here: Azure and both Vertex APIs
        try:
            response = await self.pool().request(
                request.method,
                str(request.url),
                headers=headers,
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx2.ConnectTimeout(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx2.RemoteProtocolError(str(exc), request=request) from exc
        return httpx2.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _Body(httpx2.AsyncByteStream):
    """A response body, each piece handed on as soon as aiohttp has read it."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while chunk := await content.readany():
                yield chunk
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc), request=self._request) from exc
        except aiohttp.ClientError as exc:
            raise httpx2.ReadError(str(exc), request=self._request) from exc

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; otherwise the connection is closed.
        self._response.release()


def environment_proxy(url: str) -> str | None:
    """The proxy ``HTTPS_PROXY``/``HTTP_PROXY`` name for ``url``, unless ``NO_PROXY`` exempts it."""
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies_environment().get(parts.scheme)
