"""The ``openai`` SDK client for any backend that speaks OpenAI's protocol.

Every such backend wants the same client: no SDK retries (the router fails
over instead), a connect timeout but no read timeout (the relay's keep-alive
and idle timeouts bound a stream), and the SDK's HTTP client sending on
aiohttp. Only the endpoint and the credentials differ.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from .contract import BackendSettings
from .openai_direct import ChatPoster, TokenSource
from .upstream.aiohttp_transport import AiohttpTransport


def openai_client(
    settings: BackendSettings,
    sdk: type[openai.AsyncOpenAI] = openai.AsyncOpenAI,
    transport: AiohttpTransport | None = None,
    **options: Any,
) -> openai.AsyncOpenAI:
    """A client of ``sdk`` (``AsyncOpenAI`` or ``AsyncAzureOpenAI``); ``options`` name endpoint and credentials."""
    return sdk(
        max_retries=0,
        timeout=openai.Timeout(None, connect=settings.connect_timeout_seconds),
        http_client=sdk_http_client(transport or aiohttp_transport()),
        **options,
    )


def chat_poster(
    settings: BackendSettings,
    model: str,
    sdk: type[openai.AsyncOpenAI] = openai.AsyncOpenAI,
    token: TokenSource | None = None,
    **options: Any,
) -> ChatPoster:
    """A backend's chat poster (:mod:`.openai_direct`): its SDK client and the pool both send on.

    ``token`` is the credential's token provider, when it is one rather than a key.
    """
    transport = aiohttp_transport()
    client = openai_client(settings, sdk, transport, **options)
    return ChatPoster(client, transport, model, settings.connect_timeout_seconds, token)


def aiohttp_transport() -> AiohttpTransport:
    """The aiohttp pool, as large as the SDK's own default pool."""
    return AiohttpTransport(max_connections=openai.DEFAULT_CONNECTION_LIMITS.max_connections or 1000)


def sdk_http_client(transport: AiohttpTransport) -> httpx2.AsyncClient:
    """The SDK's HTTP client with its own defaults, sending on aiohttp (see :mod:`.upstream.aiohttp_transport`).

    Requests to a proxy from the environment still go through httpx2's own transport.
    """
    return openai.DefaultAsyncHttpxClient(transport=transport)
