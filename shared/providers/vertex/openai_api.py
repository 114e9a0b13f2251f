"""Vertex's OpenAI-compatible endpoint, driven by ``openai.AsyncOpenAI``.

The client is built once per backend. Its bearer token changes hourly, so
the token is not the client's ``api_key``: each request carries the current
one in its own ``Authorization`` header, and a 401 is surfaced as
:class:`~.tokens.TokenRejected` so the adapter can renew it and retry once.
Everything else (chunks, finish, usage, error mapping) is the shared OpenAI
translation.
"""

from __future__ import annotations

from typing import Any

import openai

from ...chat_request import ChatRequest
from ...errors import RelayError, UpstreamRateLimited
from ..contract import UpstreamStream
from ..openai_compatible import chat_params, error_fields, opened_stream, sdk_http_client, upstream_error
from .google_errors import retry_delay
from .settings import VertexSettings
from .tokens import TokenRejected

# Never sent: every request sets its own Authorization header.
UNUSED_API_KEY = "unused-the-bearer-token-is-set-per-request"


class OpenAICompatibleApi:
    """Chat completions at ``.../endpoints/openapi/chat/completions``."""

    def __init__(self, settings: VertexSettings) -> None:
        self._settings = settings
        self._client = openai.AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=UNUSED_API_KEY,
            max_retries=0,
            timeout=openai.Timeout(None, connect=settings.connect_timeout_seconds),
            http_client=sdk_http_client(),
        )

    def prepare(self, request: ChatRequest) -> dict[str, Any]:
        """The SDK's ``create`` arguments, built once and reused by a retry."""
        return chat_params(request, self._settings.openai_model)

    async def send(self, params: dict[str, Any], token: str) -> UpstreamStream:
        """Open the stream with ``token``; a 401 raises ``TokenRejected``."""
        name = self._settings.name
        try:
            raw = await self._client.chat.completions.with_raw_response.create(
                **params, extra_headers={"Authorization": f"Bearer {token}"}
            )
        except openai.AuthenticationError as exc:
            raise TokenRejected(name) from exc
        except openai.APIError as exc:
            raise relay_error(exc, name) from exc
        return opened_stream(raw, name)

    async def aclose(self) -> None:
        await self._client.close()


def relay_error(exc: openai.APIError, backend: str) -> RelayError:
    """The shared mapping, plus Google's ``RetryInfo`` when no header says when to retry."""
    error = upstream_error(exc, backend)
    if isinstance(error, UpstreamRateLimited) and error.retry_after is None:
        error.retry_after = retry_delay(error_fields(exc.body))
    return error
