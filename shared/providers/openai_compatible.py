"""OpenAI's Chat Completions protocol: a request out, a chunk stream in.

Every upstream that speaks it (Azure OpenAI, Vertex AI's OpenAI-compatible
endpoint) has an ``openai`` SDK client (:mod:`.openai_client`) that builds its
request once (:mod:`.openai_direct`); this module sends the request and turns
the chunks into canonical events, and
:mod:`.openai_errors` turns failures into relay errors. Nothing here knows
a provider.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast

import aiohttp
import anyio
import httpx2
import openai

from ..chat_request import SAMPLING_PARAMETERS, ChatRequest
from ..errors import UPSTREAM_TRUNCATED, RelayError, UpstreamUnavailable
from ..events import Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta
from .contract import UpstreamStream
from .openai_direct import ChatPoster, body_of
from .openai_errors import OPENAI_ERRORS, ErrorWording, upstream_error
from .upstream import fast_json
from .upstream.failures import lost_mid_stream, not_a_json_object
from .upstream.headers import routing_headers
from .upstream.sse_decoder import ServerSentEvent, SSEDecoder
from .upstream.usage import usage_of

logger = logging.getLogger(__name__)

# Failures reading the body: the ones the SDK's stream turns into APIConnectionError.
TRANSPORT_FAILURES = (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream)
# How long to read on after [DONE] for the body's end, as the SDK does, so the connection is reused.
DRAIN_SECONDS = 0.1


# An upstream's finish reason and whether the stream carried tool calls -> the reason to report.
# It raises a RelayError when the reason means the answer failed.
FinishRule = Callable[[str, bool], str]


def finish_as_sent(reason: str, called_tools: bool) -> str:
    """OpenAI's own finish reasons need no translation."""
    return reason


def chat_params(request: ChatRequest, model: str, names: tuple[str, ...] = SAMPLING_PARAMETERS) -> dict[str, Any]:
    """The SDK ``create`` arguments: the client's request aimed at ``model``, with the parameters in ``names``.

    Usage is always requested upstream, whatever the client asked, because the
    relay accounts for tokens; the encoder decides whether the client sees it.
    Legacy ``functions`` go up as ``tools``, the only shape the chunk reader knows.
    """
    parameters = request.sampling_parameters(names)
    if "tools" not in parameters:
        parameters.pop("parallel_tool_calls", None)  # OpenAI answers 400 to it without tools; it means nothing then
    return {
        "model": model,
        "messages": [message.model_dump(exclude_none=True) for message in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        **parameters,
    }


async def open_chat_stream(poster: ChatPoster, params: dict[str, Any], backend: str) -> UpstreamStream:
    """Send the request and wait for the response headers; errors are typed."""
    try:
        return await send_chat(poster, params, backend)
    except openai.APIError as exc:
        raise upstream_error(exc, backend) from exc


async def send_chat(
    poster: ChatPoster,
    params: dict[str, Any],
    backend: str,
    headers: Mapping[str, str] | None = None,
    wording: ErrorWording = OPENAI_ERRORS,
    finish: FinishRule = finish_as_sent,
) -> UpstreamStream:
    """The opened stream, posted straight on aiohttp (:mod:`.openai_direct`); failures raise the SDK's errors."""
    response = await poster.post(params, headers)
    events = ChunkEvents(body_of(response), released(response), backend, wording, finish)
    return UpstreamStream(events=events, headers=routing_headers(response.headers.items()))


def released(response: aiohttp.ClientResponse) -> Callable[[], Awaitable[None]]:
    """Closing an aiohttp response: back to the pool if read to its end, else the connection is closed."""

    async def release() -> None:
        response.release()

    return release


class ChunkEvents:
    """Canonical events from a chat-completion SSE body, decoded as bytes arrive; ``Finish`` comes last.

    The request goes out on aiohttp as the SDK builds it (:mod:`.openai_direct`);
    the body is read here rather than through the SDK's stream,
    which builds a typed chunk object per delta and cost several times the
    rest of the relay's work on it. Chunks are read as JSON dicts, error
    frames raised as the SDK would raise them, and everything after
    ``[DONE]`` ignored.

    Azure sends ``finish_reason`` before the usage chunk, so the reason is
    held until the upstream ends, and an upstream that ends without one is
    reported as truncated rather than passed off as complete. An iterator
    class rather than a generator, so :meth:`aclose` releases the connection
    even if iteration never started. ``finish`` translates the held reason
    for upstreams that word it differently from OpenAI.
    """

    def __init__(
        self,
        body: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        backend: str,
        wording: ErrorWording = OPENAI_ERRORS,
        finish: FinishRule = finish_as_sent,
    ) -> None:
        self._close = close
        self._wording = wording
        self._finish = finish
        self._called_tools = False
        self._bytes = cast(AsyncGenerator[bytes, None], body)
        self._backend = backend
        self._decoder = SSEDecoder()
        self._pending: deque[StreamEvent | RelayError] = deque()
        self._finish_reason: str | None = None
        self._ended = False

    def __aiter__(self) -> ChunkEvents:
        return self

    def ready(self) -> bool:
        """Whether the next event is decoded already, so reading it will not wait for the network."""
        return bool(self._pending)

    async def __anext__(self) -> StreamEvent:
        while not self._pending:
            if self._ended:
                raise StopAsyncIteration
            await self._read()
        item = self._pending.popleft()
        if isinstance(item, RelayError):
            raise item
        return item

    async def _read(self) -> None:
        """Wait for the next bytes and queue every event they complete, in order."""
        try:
            data = await anext(self._bytes)
        except StopAsyncIteration:
            self._take_all(self._decoder.close())
            self._end()
            return
        except TRANSPORT_FAILURES as exc:
            lost = lost_mid_stream(self._backend)
            lost.__cause__ = exc
            self._fail(lost)
            return
        if self._take_all(self._decoder.feed(data)):
            await self._drain()
            self._end()

    def _take_all(self, events: list[ServerSentEvent]) -> bool:
        """Queue the events of each SSE event; True once ``[DONE]`` arrived."""
        for sse in events:
            if self._ended:
                break
            if sse.data.startswith("[DONE]"):
                return True
            try:
                self._chunk(chunk_document(sse.data, self._wording))
            except RelayError as exc:
                self._fail(exc)
        return False

    def _chunk(self, chunk: Mapping[str, Any]) -> None:
        for event in chunk_to_events(chunk):
            if isinstance(event, Finish):
                self._finish_reason = event.reason
            else:
                self._called_tools = self._called_tools or isinstance(event, ToolCallDelta)
                self._pending.append(event)

    async def _drain(self) -> None:
        """Read what follows ``[DONE]`` (the body's end, usually) so the connection can be reused."""
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                async for _ in self._bytes:
                    pass
        except (TimeoutError, *TRANSPORT_FAILURES):
            pass

    def _end(self) -> None:
        """The upstream is done: the held finish, or truncation; nothing if it already failed."""
        if self._ended:
            return
        if self._finish_reason is None:
            self._fail(
                UpstreamUnavailable("the upstream stream ended before the model finished", code=UPSTREAM_TRUNCATED)
            )
            return
        try:
            reason = self._finish(self._finish_reason, self._called_tools)
        except RelayError as exc:
            self._fail(exc)
            return
        self._pending.append(Finish(reason))
        self._ended = True

    def _fail(self, error: RelayError) -> None:
        """Queue ``error`` behind the events before it; nothing after it is read."""
        self._pending.append(error)
        self._ended = True

    async def aclose(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        self._ended = True
        await self._bytes.aclose()
        await self._close()


def chunk_document(data: str, wording: ErrorWording = OPENAI_ERRORS) -> Mapping[str, Any]:
    """One SSE event's chunk; an error frame raises the relay error it stands for."""
    try:
        document = fast_json.loads(data)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise not_a_json_object()
    error = document.get("error")
    if error:
        # What the SDK raises as APIError(body=error) for such a frame, mapped as upstream_error maps it.
        raise wording.stream_error(error)
    return document


def thought_signature(call: Mapping[str, Any]) -> str | None:
    """Gemini's signature on a tool call (``extra_content.google.thought_signature``), if the upstream sent one."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    signature = google.get("thought_signature") if isinstance(google, Mapping) else None
    return signature if isinstance(signature, str) and signature else None


def chunk_to_events(chunk: Mapping[str, Any]) -> list[StreamEvent]:
    """The events in one chunk; chunks with no choices carry only usage or filter results."""
    events: list[StreamEvent] = []
    usage = chunk.get("usage")
    if isinstance(usage, Mapping):
        counted = usage_of(
            usage,
            ("prompt_tokens",),
            ("completion_tokens",),
            cached=("prompt_tokens_details.cached_tokens",),
            reasoning=("completion_tokens_details.reasoning_tokens",),
            provider="OpenAI-compatible upstream",
        )
        if counted is not None:
            events.append(counted)
    for choice in chunk.get("choices") or ():
        if choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            events.append(TextDelta(content))
        for call in delta.get("tool_calls") or ():
            function = call.get("function")
            events.append(
                ToolCallDelta(
                    index=call.get("index", 0),
                    id=call.get("id"),
                    name=function.get("name") if function else None,
                    arguments=(function.get("arguments") or "") if function else "",
                    signature=thought_signature(call),
                )
            )
        if choice.get("finish_reason"):
            events.append(Finish(choice["finish_reason"]))
    return events
