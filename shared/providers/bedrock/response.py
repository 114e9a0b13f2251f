"""Bedrock ``ConverseStream`` events -> canonical events.

Bedrock numbers content blocks across text, reasoning and tool use, and names
a tool only in the ``contentBlockStart`` that opens its block; OpenAI numbers
tool calls on their own and repeats nothing. :class:`ConverseTranslator`
keeps that mapping for one response. The stop reason arrives in
``messageStop`` and the usage after it in ``metadata``, so the finish is held
until the upstream ends: ``Finish`` is always the last event.

When structured output took the forced-tool path (:mod:`.structured`), that
tool's input is the answer: its deltas become text, and a turn that called
only that tool finishes ``stop``, as the same request does on OpenAI.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ...errors import UpstreamUnavailable
from ...events import BEDROCK, Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..upstream.usage import usage_of
from .eventstream import Message
from .failures import exception_message, stream_error, stream_exception

logger = logging.getLogger(__name__)

# Bedrock stopReason -> OpenAI finish_reason.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

CACHE_COUNTS = ("cacheReadInputTokens", "cacheWriteInputTokens")
PROMPT_COUNTS = ("inputTokens", *CACHE_COUNTS)
_NOTHING: list[StreamEvent] = []


def finish_reason(stop_reason: object) -> str:
    """OpenAI's word for Bedrock's stop reason; unknown or malformed-output reasons read as ``stop``."""
    reason = FINISH_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None
    if reason is None:
        logger.warning("Bedrock stop reason %r has no OpenAI equivalent; reporting 'stop'", stop_reason)
        return "stop"
    return reason


def usage(body: Any) -> Usage | None:
    """``metadata.usage`` as canonical usage, in OpenAI's meaning.

    Bedrock's ``inputTokens`` leaves out the tokens read from and written to
    the prompt cache, while OpenAI's ``prompt_tokens`` includes cached ones;
    so prompt tokens are all three, and the reads and writes are reported as
    parts of them. Bedrock's ``outputTokens`` already includes thinking and
    Converse does not break it out, so no reasoning count is reported.
    """
    if not isinstance(body, dict):
        return None
    return usage_of(
        body,
        PROMPT_COUNTS,
        ("outputTokens",),
        cached=("cacheReadInputTokens",),
        cache_write=("cacheWriteInputTokens",),
        provider="Bedrock",
    )


def reasoning_events(reasoning: dict[str, Any]) -> list[StreamEvent]:
    """A ``reasoningContent`` delta: text, or the signature closing the block, or redacted reasoning.

    The signature and the redacted bytes (base64 on the wire) are relayed as
    they came, tagged Bedrock's: Claude refuses a tool-use follow-up whose
    thinking block and signature did not come back.
    """
    text, signature, redacted = (reasoning.get(key) for key in ("text", "signature", "redactedContent"))
    if isinstance(text, str) and text:
        return [ReasoningDelta(text)]
    if isinstance(signature, str) and signature:
        return [ReasoningDelta("", signature=signature, provider=BEDROCK)]
    if isinstance(redacted, str) and redacted:
        return [ReasoningDelta("", redacted=redacted, provider=BEDROCK)]
    return _NOTHING


class ConverseTranslator:
    """Turns one response's events into canonical events, in order."""

    __slots__ = ("_answer_blocks", "_answer_tool", "_finish", "_tools")

    def __init__(self, answer_tool: str | None = None) -> None:
        self._tools: dict[int, int] = {}
        self._finish: str | None = None
        self._answer_tool = answer_tool
        self._answer_blocks: set[int] = set()

    def message_events(self, message: Message) -> list[StreamEvent]:
        """The canonical events of one decoded message; exception messages raise the matching relay error."""
        headers = message.headers
        message_type = headers.get(":message-type")
        if message_type == "event":
            return self.feed(str(headers.get(":event-type")), json.loads(message.payload))
        if message_type == "exception":
            raise stream_exception(str(headers.get(":exception-type")), exception_message(message.payload))
        raise stream_error(headers)

    def feed(self, kind: str, body: dict[str, Any]) -> list[StreamEvent]:
        """The canonical events for one Converse event (often one, sometimes none)."""
        if kind == "contentBlockDelta":
            return self._delta(body)
        if kind == "contentBlockStart":
            return self._start(body)
        if kind == "messageStop":
            self._finish = finish_reason(body.get("stopReason"))
            if self._finish == "tool_calls" and self._answer_blocks and not self._tools:
                self._finish = "stop"  # only the structured-output tool was called: the answer is text
        elif kind == "metadata":
            found = usage(body.get("usage"))
            return [found] if found else _NOTHING
        # messageStart, contentBlockStop and event types added after this was written carry nothing to relay.
        return _NOTHING

    def end(self) -> Finish:
        """The finish, once the upstream has ended; an end before ``messageStop`` is a truncation."""
        if self._finish is None:
            raise UpstreamUnavailable("the upstream stream ended before the model finished", code="upstream_truncated")
        return Finish(self._finish)

    def _delta(self, body: dict[str, Any]) -> list[StreamEvent]:
        delta = body.get("delta") or {}
        text = delta.get("text")
        if text:
            return [TextDelta(text)]
        tool_use = delta.get("toolUse")
        if tool_use is not None:
            arguments = tool_use.get("input") or ""
            block = body.get("contentBlockIndex", 0)
            if block in self._answer_blocks:
                return [TextDelta(arguments)] if arguments else _NOTHING
            index = self._tool_index(block)
            return [ToolCallDelta(index=index, arguments=arguments)] if arguments else _NOTHING
        reasoning = delta.get("reasoningContent")
        return reasoning_events(reasoning) if isinstance(reasoning, dict) else _NOTHING

    def _start(self, body: dict[str, Any]) -> list[StreamEvent]:
        tool_use = (body.get("start") or {}).get("toolUse")
        if tool_use is None:
            return _NOTHING
        block = body.get("contentBlockIndex", 0)
        if self._answer_tool is not None and tool_use.get("name") == self._answer_tool:
            self._answer_blocks.add(block)
            return _NOTHING
        index = self._tool_index(block)
        return [ToolCallDelta(index=index, id=tool_use.get("toolUseId"), name=tool_use.get("name"))]

    def _tool_index(self, block: int) -> int:
        """The OpenAI index of the tool call in content block ``block``: 0, 1, 2... in order of appearance."""
        if block not in self._tools:
            self._tools[block] = len(self._tools)
        return self._tools[block]
