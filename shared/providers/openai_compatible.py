"""OpenAI's Chat Completions protocol: a request out, a chunk stream in.

Every upstream that speaks it (Azure OpenAI, Vertex AI's OpenAI-compatible
endpoint) is driven with the ``openai`` SDK (:mod:`.openai_client`); this
module sends the request and turns the chunks into canonical events, and
:mod:`.openai_errors` turns failures into relay errors. Nothing here knows
a provider.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from ..chat_request import SAMPLING_PARAMETERS, ChatRequest
from ..errors import UPSTREAM_TRUNCATED, RelayError, UpstreamUnavailable
from ..events import Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta
from .contract import UpstreamStream
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

# What ``with_raw_response`` adds to a request: the SDK then hands back the raw response, unread.
RAW_RESPONSE_HEADERS = {"X-Stainless-Raw-Response": "true"}
# Subscripted once: a generic alias built per request costs typing's hashing on every open.
CHUNK_STREAM = AsyncStream[ChatCompletionChunk]

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


async def open_chat_stream(client: AsyncOpenAI, params: dict[str, Any], backend: str) -> UpstreamStream:
    """Send the request and wait for the response headers; errors are typed."""
    try:
        raw = await post_chat(client, params)
    except openai.APIError as exc:
        raise upstream_error(exc, backend) from exc
    return opened_stream(raw, backend)


async def post_chat(client: AsyncOpenAI, params: dict[str, Any], headers: Mapping[str, str] | None = None) -> Any:
    """``chat.completions.with_raw_response.create(**params)`` without the SDK's per-request parameter transform.

    ``create`` walks the body against its TypedDict annotations to rename
    aliased keys and format dates; a chat body has neither, and the walk cost
    about a third of the CPU of opening a stream (typing's hashing of Literal
    and Union aliases, per key). ``params`` is already the JSON body
    (:func:`chat_params`), so it is posted as is; the client still does the
    rest as ``create`` does: URL (Azure's deployments path included), auth
    headers, timeouts and typed errors.
    """
    options: Any = {"headers": {**RAW_RESPONSE_HEADERS, **(headers or {})}, "security": {"bearer_auth": True}}
    return await client.post(
        "/chat/completions", body=params, options=options, cast_to=ChatCompletion, stream=True, stream_cls=CHUNK_STREAM
    )


def opened_stream(
    raw: Any, backend: str, wording: ErrorWording = OPENAI_ERRORS, finish: FinishRule = finish_as_sent
) -> UpstreamStream:
    """The upstream stream of a raw SDK response, keeping only the routing headers."""
    response: httpx2.Response = raw.http_response
    events = ChunkEvents(response, backend, wording, finish)
    return UpstreamStream(events=events, headers=routing_headers(response.headers.items()))


class ChunkEvents:
    """Canonical events from a chat-completion SSE body, decoded as bytes arrive; ``Finish`` comes last.

    The SDK makes the request (URL, auth, retries off, status errors as its
    exceptions); the body is read here rather than through the SDK's stream,
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
        response: httpx2.Response,
        backend: str,
        wording: ErrorWording = OPENAI_ERRORS,
        finish: FinishRule = finish_as_sent,
    ) -> None:
        self._response = response
        self._wording = wording
        self._finish = finish
        self._called_tools = False
        self._bytes = response.aiter_bytes()
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
        await self._response.aclose()


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
