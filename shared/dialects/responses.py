"""The OpenAI Responses dialect: semantic ``response.*`` events, or one ``response`` object.

One :class:`ResponseBuilder` turns canonical events into Responses events, in
OpenAI's order: ``response.created`` and ``response.in_progress``, then per
output item its ``output_item.added``, content part, deltas, ``.done`` events
and ``output_item.done``, and last exactly one of ``response.completed``,
``response.incomplete`` (the model stopped on its token limit or a filter) or
``response.failed``. A streaming client reads those events as named SSE
events numbered from 0 by ``sequence_number``; a non-streaming client gets
the final ``response`` object the same builder made, so both agree.

Output items follow the canonical stream: text deltas fill a ``message``,
reasoning deltas a ``reasoning`` item (``reasoning_text``), each tool call a
``function_call`` item. An event of another kind closes the open item.

Signed reasoning survives a replay of the output items: the event that signs
or redacts a block puts an opaque ``encrypted_content`` on its reasoning item
and closes it (:mod:`shared.reasoning_blocks`), and a Gemini tool call's
signature is the ``function_call`` item's ``extra_content.google.thought_signature``,
as on a chat tool call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sized
from dataclasses import dataclass, field
from typing import Any

from ..events import Finish, Heartbeat, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..reasoning_blocks import closes_block, encrypted_content
from .collected import fold
from .openai_chat import google_extra
from .sse import HEARTBEAT, named_frame
from .terminal import terminated

Emitted = list[dict[str, Any]]
# Why a response stopped short, by the canonical finish reason; any other reason is a completed response.
INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass
class _Item:
    """One output item being built, with what its ``.done`` events need."""

    index: int
    body: dict[str, Any]
    text: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def kind(self) -> str:
        return str(self.body["type"])


@dataclass
class ResponseBuilder:
    """Canonical events in, Responses events out; ``response`` is the object so far."""

    model: str
    echo: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(init=False)
    _items: list[_Item] = field(default_factory=list)
    _open: _Item | None = None
    _calls: dict[int, _Item] = field(default_factory=dict)
    _started: bool = False

    def __post_init__(self) -> None:
        self.response = {
            "id": _id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "in_progress",
            "model": self.model,
            "output": [],
            "error": None,
            "incomplete_details": None,
            "usage": None,
            **self.echo,
        }

    def add(self, event: StreamEvent) -> Emitted:
        """The Responses events one canonical event makes, the opening pair first."""
        emitted = self.start()
        if isinstance(event, TextDelta):
            emitted += self._text(event.content, "message", "output_text")
        elif isinstance(event, ReasoningDelta):
            emitted += self._reasoning(event)
        elif isinstance(event, ToolCallDelta):
            emitted += self._call(event)
        elif isinstance(event, Usage):
            self.response["usage"] = usage_body(event)
        elif isinstance(event, Finish):
            emitted += self._finish(event.reason)
        elif isinstance(event, StreamError):
            emitted += self.fail(event)
        return emitted

    def fail(self, error: StreamError) -> Emitted:
        """``response.failed``, the items so far left as they stand."""
        emitted = self.start()
        if self._open is not None:
            self._open.body["status"] = "incomplete"
        self.response.update(status="failed", error={"code": error.code, "message": error.message})
        return [*emitted, self._lifecycle("response.failed")]

    def start(self) -> Emitted:
        """``response.created`` and ``response.in_progress``, once, before anything else."""
        if self._started:
            return []
        self._started = True
        return [self._lifecycle("response.created"), self._lifecycle("response.in_progress")]

    def _lifecycle(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "response": self.document()}

    def _text(self, delta: str, kind: str, part_type: str) -> Emitted:
        emitted: Emitted = []
        item = self._open
        if item is None or item.kind != kind:
            emitted += self._close()
            item = self._new_item(kind)
            emitted.append(self._added(item))
            emitted.append(self._part_event("response.content_part.added", item, _part(part_type, "")))
        item.text.append(delta)
        position = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        if kind == "message":
            return [*emitted, {"type": "response.output_text.delta", **position, "delta": delta, "logprobs": []}]
        return [*emitted, {"type": "response.reasoning_text.delta", **position, "delta": delta}]

    def _reasoning(self, event: ReasoningDelta) -> Emitted:
        """Text fills the open reasoning item; a signature or redacted block seals it (or a new one)."""
        emitted = self._text(event.content, "reasoning", "reasoning_text") if event.content else []
        if not closes_block(event):
            return emitted
        item = self._open
        if item is None or item.kind != "reasoning":
            emitted += self._close()
            item = self._new_item("reasoning")
            emitted.append(self._added(item))
        item.body["encrypted_content"] = encrypted_content(event)
        return [*emitted, *self._close()]

    def _call(self, event: ToolCallDelta) -> Emitted:
        emitted: Emitted = []
        item = self._calls.get(event.index)
        signed = {} if event.signature is None else {"extra_content": google_extra(event.signature)}
        if item is None:
            emitted += self._close()
            item = self._new_item("function_call", call_id=event.id or _id("call"), name=event.name or "", **signed)
            self._calls[event.index] = item
            emitted.append(self._added(item))
        elif event.name and not item.body["name"]:
            item.body["name"] = event.name
        item.body.update(signed)
        if not event.arguments:
            return emitted
        item.text.append(event.arguments)
        delta = {"item_id": item.id, "output_index": item.index, "delta": event.arguments}
        return [*emitted, {"type": "response.function_call_arguments.delta", **delta}]

    def _new_item(self, kind: str, **fields: Any) -> _Item:
        if kind == "message":
            body = {"id": _id("msg"), "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        elif kind == "reasoning":
            body = {"id": _id("rs"), "type": "reasoning", "status": "in_progress", "summary": [], "content": []}
        else:
            body = {"id": _id("fc"), "type": "function_call", "status": "in_progress", "arguments": "", **fields}
        item = _Item(len(self._items), body)
        self._items.append(item)
        self._open = item
        return item

    def _added(self, item: _Item) -> dict[str, Any]:
        return {"type": "response.output_item.added", "output_index": item.index, "item": dict(item.body)}

    def _part_event(self, kind: str, item: _Item, part: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "item_id": item.id, "output_index": item.index, "content_index": 0, "part": part}

    def _close(self, status: str = "completed") -> Emitted:
        """The ``.done`` events of the open item, which then holds its final content."""
        item, self._open = self._open, None
        if item is None:
            return []
        text = "".join(item.text)
        position = {"item_id": item.id, "output_index": item.index}
        emitted: Emitted = []
        if item.kind == "function_call":
            item.body["arguments"] = text
            emitted.append({"type": "response.function_call_arguments.done", **position, "arguments": text})
        elif item.kind == "reasoning" and not item.text:
            pass  # a redacted or signature-only block: no readable text, so no text part
        else:
            part_type = "output_text" if item.kind == "message" else "reasoning_text"
            done = "response.output_text.done" if item.kind == "message" else "response.reasoning_text.done"
            extra: dict[str, Any] = {"logprobs": []} if item.kind == "message" else {}
            emitted.append({"type": done, **position, "content_index": 0, "text": text, **extra})
            part = _part(part_type, text)
            emitted.append(self._part_event("response.content_part.done", item, part))
            item.body["content"] = [part]
        item.body["status"] = status
        return [*emitted, {"type": "response.output_item.done", "output_index": item.index, "item": dict(item.body)}]

    def _finish(self, reason: str) -> Emitted:
        incomplete = INCOMPLETE.get(reason)
        emitted = self._close("incomplete" if incomplete else "completed")
        if incomplete:
            self.response.update(status="incomplete", incomplete_details={"reason": incomplete})
            return [*emitted, self._lifecycle("response.incomplete")]
        self.response["status"] = "completed"
        return [*emitted, self._lifecycle("response.completed")]

    def document(self) -> dict[str, Any]:
        """The ``response`` object as it stands: complete once a terminal event was added."""
        return {**self.response, "output": [dict(item.body) for item in self._items]}


def _part(part_type: str, text: str) -> dict[str, Any]:
    if part_type == "output_text":
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": part_type, "text": text}


def usage_body(usage: Usage) -> dict[str, Any]:
    """Responses usage; the details are parts of the input and output counts, as in OpenAI."""
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


@dataclass
class EventEncoder:
    """Frames a builder's events as named SSE events, numbered from 0."""

    builder: ResponseBuilder
    _sequence: int = 0

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, Heartbeat):
            return b"".join(self._frames(self.builder.start())) + HEARTBEAT
        return b"".join(self._frames(self.builder.add(event)))

    def error_frame(self, error: StreamError) -> bytes:
        return b"".join(self._frames(self.builder.fail(error)))

    def _frames(self, emitted: Emitted) -> list[bytes]:
        frames = []
        for body in emitted:
            frames.append(named_frame(body["type"], {"type": body["type"], "sequence_number": self._sequence, **body}))
            self._sequence += 1
        return frames


def encode_stream(
    events: AsyncIterator[StreamEvent], builder: ResponseBuilder, backlog: Sized = ()
) -> AsyncIterator[bytes]:
    """SSE bytes for a guarded event stream (heartbeats as comments); one terminal event always.

    ``backlog`` counts the events already read behind the current one (see :func:`.terminal.terminated`).
    """
    encoder = EventEncoder(builder)
    return terminated(events, encoder.encode, encoder.error_frame, backlog)


async def collect_response(events: AsyncIterator[StreamEvent], builder: ResponseBuilder) -> dict[str, Any]:
    """The final ``response`` object; a failed stream raises the relay error, for an HTTP error status."""
    await fold(events, builder.add, "response")
    return builder.document()
