"""The OpenAI Chat Completions dialect: ``chat.completion.chunk`` frames and ``[DONE]``.

Any OpenAI SDK pointed at the relay reads this. Each canonical event becomes
at most one frame, written as soon as it arrives. A stream ends either with
the finish chunk (then the usage chunk when asked for) and ``data: [DONE]``,
or with one ``data: {"error": ...}`` frame, which the OpenAI SDKs raise (after
the usage chunk, when asked for and the provider had already reported usage).

A request that used the legacy ``functions`` is answered in the legacy shape
its client reads: ``delta.function_call`` (or ``message.function_call``) and
finish reason ``function_call``. Legacy answers hold one call; further calls
have no place in that shape and are left out.

Reasoning is ``reasoning_content`` text plus signed ``thinking_blocks``, and a
Gemini tool call's signature is its ``extra_content.google.thought_signature``
(see :mod:`shared.reasoning_blocks`), so a client that replays the message it
got, streamed or not, sends back what the provider needs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sized
from dataclasses import dataclass, field
from typing import Any

from ..errors import RelayError
from ..events import Finish, Heartbeat, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..reasoning_blocks import BlockFolder
from .collected import fold
from .sse import HEARTBEAT, data_frame, dumps, json_string, raw_data_frame
from .terminal import terminated

DONE = raw_data_frame("[DONE]")


def error_body(error: RelayError | StreamError) -> dict[str, Any]:
    """OpenAI's error JSON, plus ``retryable`` so clients need not guess.

    Messages are used as they are: upstream text was scrubbed where it
    entered the relay, and the relay's own messages need no scrubbing.
    """
    if isinstance(error, RelayError):
        body: dict[str, Any] = {
            "message": error.message,
            "type": error.error_type,
            "param": error.param,
            "code": error.code,
            "retryable": error.retryable,
        }
    else:
        body = {"message": error.message, "type": "api_error", "param": None, "code": error.code}
        body["retryable"] = error.retryable
    if error.retry_after is not None:
        body["retry_after"] = round(error.retry_after, 3)
    return {"error": body}


@dataclass
class ChunkEncoder:
    """Turns canonical events into chunk frames for one response."""

    model: str
    include_usage: bool = False
    legacy_functions: bool = False
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))
    _usage: Usage | None = None
    _sent_role: bool = False
    _blocks: BlockFolder = field(default_factory=BlockFolder)

    def __post_init__(self) -> None:
        # Every delta chunk is this envelope around its delta, so text deltas, the
        # bulk of a stream, are written without building or encoding the envelope.
        envelope = self._envelope([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": None}])
        self._delta_head, self._delta_tail = f"data: {dumps(envelope)}\n\n".split('"delta":{}', 1)
        self._delta_head += '"delta":'

    def encode(self, event: StreamEvent) -> bytes:
        """The bytes for one event; empty when the event is held for later."""
        if isinstance(event, TextDelta) and self._sent_role:
            return f'{self._delta_head}{{"content":{json_string(event.content)}}}{self._delta_tail}'.encode()
        if isinstance(event, Usage):
            self._usage = event
            return b""
        if isinstance(event, Finish):
            return self._finish(event)
        if isinstance(event, StreamError):
            return self._usage_frame_before_error() + data_frame(error_body(event))
        if isinstance(event, Heartbeat):
            return HEARTBEAT
        if self.legacy_functions and isinstance(event, ToolCallDelta) and event.index != 0:
            return b""
        return self._chunk(self._delta(event), None)

    def _delta(self, event: TextDelta | ReasoningDelta | ToolCallDelta) -> dict[str, Any]:
        delta: dict[str, Any] = {}
        if not self._sent_role:
            delta["role"] = "assistant"
            self._sent_role = True
        if isinstance(event, TextDelta):
            delta["content"] = event.content
        elif isinstance(event, ReasoningDelta):
            self._reasoning(event, delta)
        elif self.legacy_functions:
            delta["function_call"] = function_call_delta(event)
        else:
            delta["tool_calls"] = [tool_call_delta(event)]
        return delta

    def _reasoning(self, event: ReasoningDelta, delta: dict[str, Any]) -> None:
        """Text as ``reasoning_content``; the event that signs a block also carries the whole block."""
        if event.content:
            delta["reasoning_content"] = event.content
        block = self._blocks.add(event)
        if block is not None:
            delta["thinking_blocks"] = [{**block, "index": len(self._blocks.blocks) - 1}]

    def _usage_frame_before_error(self) -> bytes:
        """The usage chunk, when asked for and the provider reported usage before failing.

        Tokens the provider already counted are billed whether or not the answer
        finished, so a client that asked for usage gets it ahead of the error frame.
        """
        if not self.include_usage or self._usage is None:
            return b""
        return data_frame({**self._envelope([]), "usage": usage_body(self._usage)})

    def _finish(self, event: Finish) -> bytes:
        reason = legacy_reason(event.reason) if self.legacy_functions else event.reason
        frames = [self._chunk({} if self._sent_role else {"role": "assistant"}, reason)]
        if self.include_usage:
            usage = self._usage or Usage(0, 0)
            frames.append(data_frame({**self._envelope([]), "usage": usage_body(usage)}))
        frames.append(DONE)
        return b"".join(frames)

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return data_frame(self._envelope([choice]))

    def _envelope(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        envelope: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:
            envelope["usage"] = None
        return envelope


def tool_call_delta(event: ToolCallDelta) -> dict[str, Any]:
    """A tool-call fragment in OpenAI's delta shape; id and name only on the first."""
    function: dict[str, Any] = {"arguments": event.arguments}
    call: dict[str, Any] = {"index": event.index}
    if event.id is not None:
        call["id"] = event.id
        call["type"] = "function"
    if event.name is not None:
        function["name"] = event.name
    call["function"] = function
    if event.signature is not None:
        call["extra_content"] = google_extra(event.signature)
    return call


def google_extra(signature: str) -> dict[str, Any]:
    """Where Gemini's OpenAI-compatible endpoint puts a tool call's thought signature."""
    return {"google": {"thought_signature": signature}}


def function_call_delta(event: ToolCallDelta) -> dict[str, Any]:
    """A tool-call fragment in the legacy ``function_call`` delta shape; the name only on the first."""
    call: dict[str, Any] = {"arguments": event.arguments}
    if event.name is not None:
        call["name"] = event.name
    return call


def legacy_reason(reason: str) -> str:
    """The legacy word for stopping to call a function."""
    return "function_call" if reason == "tool_calls" else reason


def usage_body(usage: Usage) -> dict[str, Any]:
    """OpenAI's usage object, with the cached and reasoning breakdowns its SDKs type."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def encode_stream(
    events: AsyncIterator[StreamEvent], encoder: ChunkEncoder, backlog: Sized = ()
) -> AsyncIterator[bytes]:
    """SSE bytes for a guarded event stream (heartbeats as comments); one terminal frame always.

    ``backlog`` counts the events already read behind the current one (see :func:`.terminal.terminated`).
    """
    return terminated(events, encoder.encode, lambda error: data_frame(error_body(error)), backlog)


async def collect_completion(
    events: AsyncIterator[StreamEvent], model: str, legacy_functions: bool = False
) -> dict[str, Any]:
    """One ``chat.completion`` document built from the whole event stream.

    A stream that fails raises the matching relay error, so a non-streaming
    client gets an HTTP error status instead of a half answer.
    """
    builder = _CompletionBuilder()
    await fold(events, builder.add, "completion")
    return builder.legacy_document(model) if legacy_functions else builder.document(model)


@dataclass
class _CompletionBuilder:
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    blocks: BlockFolder = field(default_factory=BlockFolder)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    usage: Usage | None = None
    finish_reason: str = "stop"

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.content)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.content)
            self.blocks.add(event)
        elif isinstance(event, ToolCallDelta):
            self._add_call(event)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Finish):
            self.finish_reason = event.reason

    def _add_call(self, event: ToolCallDelta) -> None:
        call = self.calls.setdefault(
            event.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if event.id is not None:
            call["id"] = event.id
        if event.name is not None:
            call["function"]["name"] = event.name
        call["function"]["arguments"] += event.arguments
        if event.signature is not None:
            call["extra_content"] = google_extra(event.signature)

    def document(self, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text) or None}
        if any(self.reasoning):
            message["reasoning_content"] = "".join(self.reasoning)
        if self.blocks.blocks:
            message["thinking_blocks"] = self.blocks.blocks
        if self.calls:
            message["tool_calls"] = [self.calls[index] for index in sorted(self.calls)]
        elif message["content"] is None:
            message["content"] = ""
        document: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}],
        }
        if self.usage is not None:
            document["usage"] = usage_body(self.usage)
        return document

    def legacy_document(self, model: str) -> dict[str, Any]:
        """The document in the legacy ``functions`` shape: the first call as ``message.function_call``."""
        first = self.calls.pop(min(self.calls), None) if self.calls else None
        self.calls.clear()
        document = self.document(model)
        choice = document["choices"][0]
        if first is not None:
            choice["message"]["function_call"] = first["function"]
            choice["message"]["content"] = "".join(self.text) or None
        choice["finish_reason"] = legacy_reason(choice["finish_reason"])
        return document
