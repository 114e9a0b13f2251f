"""Translation shared by upstreams that speak OpenAI's Chat Completions protocol.

Azure OpenAI and Vertex AI's OpenAI-compatible endpoint are both driven with
the ``openai`` SDK; this module turns their chunks into canonical events and
their SDK exceptions into relay errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk

from ..chat_request import ChatRequest
from ..errors import (
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ..events import Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..redaction import scrub
from ..retry_after import ROUTING_HEADERS, retry_after_seconds
from .base import UpstreamStream

logger = logging.getLogger(__name__)

# Mid-stream error codes worth retrying: OpenAI's and Azure's, and the Google
# canonical statuses Vertex's OpenAI-compatible endpoint reports.
RETRYABLE_STREAM_CODES = frozenset(
    {"rate_limit_exceeded", "429", "server_error", "InternalServerError", "500", "503"}
    | {"resource_exhausted", "unavailable", "internal", "deadline_exceeded"}
)


def chat_params(request: ChatRequest, model: str) -> dict[str, Any]:
    """The SDK ``create`` arguments: the client's request aimed at ``model``.

    Usage is always requested upstream, whatever the client asked, because the
    relay accounts for tokens; the encoder decides whether the client sees it.
    """
    return {
        "model": model,
        "messages": [message.model_dump(exclude_none=True) for message in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        **request.sampling_parameters(),
    }


async def open_chat_stream(client: AsyncOpenAI, params: dict[str, Any], backend: str) -> UpstreamStream:
    """Send the request and wait for the response headers; errors are typed."""
    try:
        raw = await client.chat.completions.with_raw_response.create(**params)
    except openai.APIError as exc:
        raise upstream_error(exc, backend) from exc
    return opened_stream(raw, backend)


def opened_stream(raw: Any, backend: str) -> UpstreamStream:
    """The upstream stream of a raw SDK response, keeping only the routing headers."""
    headers = {name: value for name, value in raw.headers.items() if name.lower() in ROUTING_HEADERS}
    return UpstreamStream(events=chunk_events(raw.parse(), backend), headers=headers)


async def chunk_events(stream: Any, backend: str) -> AsyncIterator[StreamEvent]:
    """Canonical events from an SDK chunk stream; ``Finish`` comes last.

    Azure sends ``finish_reason`` before the usage chunk, so the reason is
    held until the upstream ends, and an upstream that ends without one is
    reported as truncated rather than passed off as complete.
    """
    finish_reason: str | None = None
    try:
        async for chunk in stream:
            for event in chunk_to_events(chunk):
                if isinstance(event, Finish):
                    finish_reason = event.reason
                else:
                    yield event
    except openai.APIConnectionError as exc:
        raise UpstreamUnavailable(
            f"the connection to backend {backend} was lost mid-stream", code="upstream_disconnected"
        ) from exc
    except openai.APIError as exc:
        raise upstream_error(exc, backend) from exc
    finally:
        await stream.close()
    if finish_reason is None:
        raise UpstreamUnavailable("the upstream stream ended before the model finished", code="upstream_truncated")
    yield Finish(finish_reason)


def chunk_to_events(chunk: ChatCompletionChunk) -> list[StreamEvent]:
    """The events in one chunk; chunks with no choices carry only usage or filter results."""
    events: list[StreamEvent] = []
    if chunk.usage is not None:
        events.append(Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0))
    for choice in chunk.choices:
        if choice.index != 0:
            continue
        delta = choice.delta
        reasoning = getattr(delta, "reasoning_content", None)
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        if delta.content:
            events.append(TextDelta(delta.content))
        for call in delta.tool_calls or []:
            function = call.function
            events.append(
                ToolCallDelta(
                    index=call.index,
                    id=call.id,
                    name=function.name if function else None,
                    arguments=(function.arguments or "") if function else "",
                )
            )
        if choice.finish_reason:
            events.append(Finish(choice.finish_reason))
    return events


def upstream_error(exc: openai.APIError, backend: str) -> RelayError:
    """An SDK exception as a relay error the client may see; never leaks upstream URLs."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout(f"backend {backend} did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamUnavailable(f"backend {backend} could not be reached")
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, backend)
    # An error frame inside an otherwise healthy stream.
    code = _error_code(exc.body) or "upstream_error"
    retryable = code in RETRYABLE_STREAM_CODES
    message = _error_message(exc.body) or exc.message
    return UpstreamError(f"the upstream failed mid-stream: {client_message(message)}", code=code, retryable=retryable)


def _status_error(exc: openai.APIStatusError, backend: str) -> UpstreamError:
    status = exc.status_code
    headers = exc.response.headers
    if status == 429:
        return UpstreamRateLimited(
            f"backend {backend} is rate limited", retry_after=retry_after_seconds(headers)
        )
    if status in (401, 403):
        logger.error("backend %s refused the relay's credentials (HTTP %s)", backend, status)
        return UpstreamUnavailable(
            f"backend {backend} refused the relay's credentials", code="upstream_auth_failed", retryable=True
        )
    if status == 404:
        logger.error("backend %s answered 404: check its endpoint and model settings", backend)
        return UpstreamUnavailable(
            f"backend {backend} was not found upstream", code="upstream_not_found", retryable=True
        )
    if status == 408 or status >= 500:
        return UpstreamUnavailable(
            f"backend {backend} failed (HTTP {status})", retryable=True, retry_after=retry_after_seconds(headers)
        )
    code = _error_code(exc.body) or "upstream_rejected"
    message = _error_message(exc.body) or exc.message
    return UpstreamRejected(client_message(message) or f"backend {backend} rejected the request", code=code)


def _error_fields(body: object) -> Mapping[str, Any] | None:
    """The error object of a body; Vertex wraps its error document in a one-element list."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            return inner
    return None


def _error_code(body: object) -> str | None:
    fields = _error_fields(body)
    if fields is None:
        return None
    status = fields.get("status")
    if isinstance(fields.get("code"), int) and isinstance(status, str) and status:
        # Google's shape: ``code`` is the HTTP status, ``status`` the name worth reporting.
        return status.lower()
    code = fields.get("code") or fields.get("type")
    return str(code) if code else None


def _error_message(body: object) -> str | None:
    fields = _error_fields(body)
    if fields is not None and isinstance(fields.get("message"), str):
        return str(fields["message"])
    return None


def client_message(message: str) -> str:
    """An upstream message fit for the client: no URLs, ids or keys, no SDK prefixes."""
    return scrub(re.sub(r"^Error code: \d+ - ", "", message or ""))
