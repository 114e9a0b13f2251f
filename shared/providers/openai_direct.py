"""Chat requests posted straight on aiohttp, the SDK's request built once per backend.

Sending through the SDK costs about half the relay's CPU per opened stream:
``FinalRequestOptions``, URL building and header merging, httpx2's client and
its transport adapter, all to produce the same URL and headers every time.
Here the SDK builds that request once (URL, default headers, static
credentials), the body is serialised once with orjson, and each open posts it
on the same aiohttp pool the SDK's transport uses. The SDK keeps what it is
needed for: a token provider's current token (its own cache) and, on a
refusal, the typed exception it would have raised, built from the response,
so error mapping is unchanged. ``HTTPS_PROXY``/``HTTP_PROXY`` (less
``NO_PROXY``) are honoured, read once, as for Bedrock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx2
import openai
import orjson
from openai._models import FinalRequestOptions
from yarl import URL

from ..telemetry.propagation import upstream_trace_headers
from .upstream.aiohttp_transport import AiohttpTransport, environment_proxy

TokenSource = Callable[[], Awaitable[str]]
CHAT_PATH = "/chat/completions"
# Set per request by aiohttp or by this module; a template copy would be stale or wrong. No Accept-Encoding:
# the pool hands bodies on undecoded (httpx2 decoded them on the SDK's path), so SSE must come uncompressed.
PER_REQUEST_HEADERS = frozenset({"accept-encoding", "content-length", "content-type", "host", "transfer-encoding"})
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Template:
    """What every chat request of one backend shares: where it goes and its headers."""

    url: URL
    headers: dict[str, str]


class ChatPoster:
    """One backend's chat posts: the template built on first use, then only the body and the token change.

    ``token``, when the credential is a token provider rather than a key, is
    awaited per request for the current bearer token (the provider caches it).
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        transport: AiohttpTransport,
        model: str,
        connect_timeout: float | None,
        token: TokenSource | None = None,
    ) -> None:
        self.client = client
        self._transport = transport
        self._model = model
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
        self._template: Template | None = None
        self._proxy: str | None = None

    async def template(self) -> Template:
        """The SDK's own request for a chat completion, built the way ``client.post`` builds it, once."""
        if self._template is None:
            options = FinalRequestOptions.construct(
                method="post", url=CHAT_PATH, json_data={"model": self._model}, security={"bearer_auth": True}
            )
            options = await self.client._prepare_options(options)
            request = self.client._build_request(options)
            await self.client._prepare_request(request)
            headers = {name: value for name, value in request.headers.items() if name not in PER_REQUEST_HEADERS}
            url = str(request.url)  # already percent-encoded by httpx2: parsed once, sent as is
            self._template = Template(URL(url, encoded=True), {**headers, **JSON_HEADERS})
            self._proxy = environment_proxy(url)
        return self._template

    async def post(self, params: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> aiohttp.ClientResponse:
        """Send ``params`` as the JSON body; a 2xx response comes back unread, anything else raises the SDK's error."""
        template = await self.template()
        sent = {**template.headers, **(headers or {}), **upstream_trace_headers()}
        if self._token is not None:
            sent["Authorization"] = f"Bearer {await self._token()}"
        try:
            response = await self._transport.pool().post(
                template.url,
                data=orjson.dumps(params),
                headers=sent,
                allow_redirects=False,
                timeout=self._timeout,
                proxy=self._proxy,
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise openai.APITimeoutError(request=self._request(template)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise openai.APIConnectionError(request=self._request(template)) from exc
        if not 200 <= response.status < 300:
            raise await self._refusal(response, template)
        return response

    async def _refusal(self, response: aiohttp.ClientResponse, template: Template) -> openai.APIStatusError:
        """The exception the SDK raises for this status and body: same class, message and body."""
        try:
            body = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            body = b""
        finally:
            response.release()
        sdk_response = httpx2.Response(
            response.status, headers=response.raw_headers, content=body, request=self._request(template)
        )
        return self.client._make_status_error_from_response(sdk_response)

    async def aclose(self) -> None:
        """Close the SDK client and with it the connection pool."""
        await self.client.close()

    @staticmethod
    def _request(template: Template) -> httpx2.Request:
        """An httpx2 request standing for the one sent, for the SDK's exceptions; failures only."""
        return httpx2.Request("POST", str(template.url))


async def body_of(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The response body as aiohttp reads it; read failures raise what httpx2's transport raises for them."""
    content = response.content
    try:
        while chunk := await content.readany():
            yield chunk
    except TimeoutError as exc:
        raise httpx2.ReadTimeout(str(exc)) from exc
    except aiohttp.ClientError as exc:
        raise httpx2.ReadError(str(exc)) from exc
