"""The Vertex adapter: one backend's token cache and its chosen upstream API.

Opening a stream takes the backend's cached token, sends the request, and
when Google answers 401 (the token expired early, or was revoked) renews the
token once and sends the same request again. All of that happens before any
byte reaches the client, so a client never sees a token expire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ...chat_request import ChatRequest
from ..contract import UpstreamStream
from ..upstream.failures import credentials_refused
from .credentials import GoogleCredentials, parse_credentials_json
from .federation import FederatedGoogleCredentials
from .native_api import NativeApi
from .openai_api import OpenAICompatibleApi
from .settings import VertexSettings
from .tokens import AccessToken, TokenCache, TokenRejected

logger = logging.getLogger(__name__)


class VertexApi(Protocol):
    """One of Vertex's two chat APIs: translate once, then send with a given token."""

    def prepare(self, request: ChatRequest) -> Any: ...

    async def send(self, prepared: Any, token: str) -> UpstreamStream: ...

    async def aclose(self) -> None: ...


class VertexAdapter:
    """One Vertex backend, built once; its streams share the token and the HTTP pool."""

    def __init__(self, settings: VertexSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._tokens = TokenCache(_token_source(settings, environ))
        self._api: VertexApi = OpenAICompatibleApi(settings) if settings.api == "openai" else NativeApi(settings)

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Open a stream, renewing the token once if upstream refuses it."""
        prepared = self._api.prepare(request)
        token = await self._tokens.token()
        try:
            return await self._api.send(prepared, token)
        except TokenRejected:
            logger.info("backend %s: Google refused the access token; renewing it once", self.settings.name)
        token = await self._tokens.renew(token)
        try:
            return await self._api.send(prepared, token)
        except TokenRejected as exc:
            logger.error("backend %s: Google refused a freshly issued access token", self.settings.name)
            raise credentials_refused(self.settings.name) from exc

    async def aclose(self) -> None:
        """Close the HTTP pool."""
        await self._api.aclose()


def _token_source(settings: VertexSettings, environ: Mapping[str, str]) -> Callable[[], AccessToken]:
    """The blocking token fetch of the backend's credential mode: federated, a key setting, or ADC."""
    if settings.workload_identity is not None:
        return FederatedGoogleCredentials(
            settings.name, settings.workload_identity, environ, settings.connect_timeout_seconds
        ).fetch
    setting = settings.credentials_setting
    info = parse_credentials_json(environ.get(setting)) if setting else None
    return GoogleCredentials(settings.name, info, environ, settings.connect_timeout_seconds).fetch
