"""The Bedrock adapter: a translated request in, canonical events out."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

import aiohttp

from ...chat_request import ChatRequest
from ...events import StreamEvent
from ...retry_after import ROUTING_HEADERS
from ..base import UpstreamStream
from .request import converse_params
from .response import ConverseTranslator
from .settings import BedrockSettings
from .transport import ConverseClient, converse_events


class BedrockAdapter:
    """One Bedrock backend: its signing client and connection pool, shared by every request."""

    def __init__(self, settings: BedrockSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._client = ConverseClient(settings, environ)

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Translate, send, and wait for Bedrock's answer; unsupported parameters fail before sending."""
        params = converse_params(request, self.settings.model_id)
        response = await self._client.open(params)
        headers = {name: value for name, value in response.headers.items() if name.lower() in ROUTING_HEADERS}
        return UpstreamStream(events=CanonicalEvents(response, self.settings.name), headers=headers)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class CanonicalEvents:
    """The canonical events of one open ConverseStream response.

    A class rather than a bare generator so that :meth:`aclose` releases the
    connection even when nobody ever started iterating: closing a generator
    that never ran skips its ``finally``.
    """

    def __init__(self, response: aiohttp.ClientResponse, backend: str) -> None:
        self._response = response
        self._events = _translated(response, backend)

    def __aiter__(self) -> CanonicalEvents:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        try:
            await self._events.aclose()
        finally:
            self._response.close()


async def _translated(response: aiohttp.ClientResponse, backend: str) -> AsyncGenerator[StreamEvent, None]:
    translator = ConverseTranslator()
    try:
        async for kind, body in converse_events(response, backend):
            for event in translator.feed(kind, body):
                yield event
    finally:
        # After the last byte this keeps the connection for reuse; before it, drops the connection.
        response.close()
    yield translator.end()
