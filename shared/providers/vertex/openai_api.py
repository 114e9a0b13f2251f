"""Vertex's OpenAI-compatible endpoint, driven by ``openai.AsyncOpenAI``.

The client is built once per backend. Its bearer token changes hourly, so
the token is not the client's ``api_key``: each request carries the current
one in its own ``Authorization`` header, and a 401 is surfaced as
:class:`~.tokens.TokenRejected` so the adapter can renew it and retry once.
Everything else (chunks, finish, usage, error mapping) is the shared OpenAI
protocol, told how Google words its errors and its finish reasons
(:func:`~.finish_reasons.openai_compatible_finish`). A replayed tool call's
thought signature goes back where this endpoint put it,
``extra_content.google.thought_signature``; Gemini 3 refuses the turn without it.
"""

from __future__ import annotations

from typing import Any

import openai

from ...chat_request import ChatRequest
from ...errors import RelayError, UpstreamRateLimited
from ...reasoning_replay import google_signature
from ..contract import UpstreamStream
from ..openai_client import chat_poster
from ..openai_compatible import chat_params, send_chat
from ..openai_errors import upstream_error
from ..unsupported import refuse_logit_bias
from .finish_reasons import openai_compatible_finish
from .google_errors import GOOGLE_ERRORS, error_fields, retry_delay
from .settings import VertexSettings
from .tokens import TokenRejected

# What Vertex's OpenAI-compatible endpoint documents for Gemini; it ignores anything else without a word,
# so the rest is never sent (user, store, metadata, service_tier... change nothing there).
VERTEX_PARAMETERS = (
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
    "modalities",
)

# Never sent: every request sets its own Authorization header.
UNUSED_API_KEY = "unused-the-bearer-token-is-set-per-request"


class OpenAICompatibleApi:
    """Chat completions at ``.../endpoints/openapi/chat/completions``."""

    def __init__(self, settings: VertexSettings) -> None:
        self._settings = settings
        self._poster = chat_poster(
            settings, settings.openai_model, base_url=settings.openai_base_url, api_key=UNUSED_API_KEY
        )

    def prepare(self, request: ChatRequest) -> dict[str, Any]:
        """The SDK's ``create`` arguments, built once and reused by a retry."""
        refuse_logit_bias(request, "Vertex AI")
        params = chat_params(request, self._settings.openai_model, VERTEX_PARAMETERS)
        with_thought_signatures(params["messages"], request)
        return params

    async def send(self, params: dict[str, Any], token: str) -> UpstreamStream:
        """Open the stream with ``token``; a 401 raises ``TokenRejected``."""
        name = self._settings.name
        try:
            headers = {"Authorization": f"Bearer {token}"}
            return await send_chat(self._poster, params, name, headers, GOOGLE_ERRORS, openai_compatible_finish)
        except openai.AuthenticationError as exc:
            raise TokenRejected(name) from exc
        except openai.APIError as exc:
            raise relay_error(exc, name) from exc

    async def aclose(self) -> None:
        await self._poster.aclose()


def with_thought_signatures(messages: list[dict[str, Any]], request: ChatRequest) -> None:
    """Put each replayed tool call's signature back on the dumped call (the dump leaves it out)."""
    for dumped, message in zip(messages, request.messages, strict=True):
        for dumped_call, call in zip(dumped.get("tool_calls") or [], message.tool_calls or [], strict=True):
            if (signature := google_signature(call.extra_content)) is not None:
                dumped_call["extra_content"] = {"google": {"thought_signature": signature}}


def relay_error(exc: openai.APIError, backend: str) -> RelayError:
    """The shared mapping, plus Google's ``RetryInfo`` when no header says when to retry."""
    error = upstream_error(exc, backend, GOOGLE_ERRORS)
    if isinstance(error, UpstreamRateLimited) and error.retry_after is None:
        error.retry_after = retry_delay(error_fields(exc.body))
    return error
