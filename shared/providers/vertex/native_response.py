"""Gemini ``GenerateContentResponse`` chunks as canonical events.

Each chunk carries parts of the first candidate: ``text`` (or, with
``thought: true``, reasoning) and whole ``functionCall`` objects. The last
chunk carries ``finishReason`` and the token counts; the stream has no
``[DONE]``. So :class:`ResponseTranslator` holds the finish reason and usage
until the upstream ends, and :meth:`ResponseTranslator.end` reports a stream
that ended without a finish reason as truncated.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from ...errors import UpstreamUnavailable
from ...events import Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..upstream.usage import usage_of

logger = logging.getLogger(__name__)

# Gemini omits a zero count. candidatesTokenCount leaves thoughts out, but they are billed as
# output and OpenAI's completion_tokens include reasoning, so both are summed. promptTokenCount
# already includes cachedContentTokenCount, as OpenAI's prompt_tokens include cached tokens.
COMPLETION_COUNTS = ("candidatesTokenCount", "thoughtsTokenCount")
CONTENT_FILTER_REASONS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"}
)


def finish_reason(gemini_reason: str, called_tools: bool) -> str:
    """A Gemini ``finishReason`` in OpenAI's vocabulary.

    Gemini reports ``STOP`` when it stops to call a tool; OpenAI clients
    expect ``tool_calls`` then. Reasons with no OpenAI counterpart (``OTHER``,
    ``MALFORMED_FUNCTION_CALL``...) become ``stop`` and are logged.
    """
    if gemini_reason == "MAX_TOKENS":
        return "length"
    if gemini_reason in CONTENT_FILTER_REASONS:
        return "content_filter"
    if gemini_reason != "STOP":
        logger.warning("Gemini finished with %s; reported to the client as stop", gemini_reason)
    return "tool_calls" if called_tools else "stop"


def new_tool_call_id() -> str:
    """An id for a function call; Gemini's calls usually carry none."""
    return f"call_{secrets.token_hex(12)}"


class ResponseTranslator:
    """Turns one response's chunks into events, holding the finish until the end."""

    def __init__(self) -> None:
        self._tool_calls = 0
        self._reason: str | None = None
        self._usage: Usage | None = None

    def events(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        """The deltas in one chunk; finish reason and usage are kept for :meth:`end`."""
        self._note_usage(chunk.get("usageMetadata"))
        blocked = (chunk.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            self._reason = "content_filter"
        candidates = chunk.get("candidates") or []
        if not candidates:
            return []
        candidate = candidates[0]
        events = [event for part in (candidate.get("content") or {}).get("parts") or [] if (event := self._part(part))]
        if candidate.get("finishReason"):
            self._reason = finish_reason(candidate["finishReason"], self._tool_calls > 0)
        return events

    def end(self) -> list[StreamEvent]:
        """Usage then the finish, once the upstream has ended cleanly."""
        if self._reason is None:
            raise UpstreamUnavailable("the upstream stream ended before the model finished", code="upstream_truncated")
        return [*([self._usage] if self._usage else []), Finish(self._reason)]

    def _part(self, part: Mapping[str, Any]) -> StreamEvent | None:
        call = part.get("functionCall")
        if isinstance(call, Mapping):
            return self._tool_call(call)
        text = part.get("text")
        if not isinstance(text, str) or not text:
            return None
        return ReasoningDelta(text) if part.get("thought") else TextDelta(text)

    def _tool_call(self, call: Mapping[str, Any]) -> ToolCallDelta:
        index = self._tool_calls
        self._tool_calls += 1
        arguments = json.dumps(call.get("args") or {}, ensure_ascii=False, separators=(",", ":"))
        return ToolCallDelta(
            index=index, id=call.get("id") or new_tool_call_id(), name=call.get("name"), arguments=arguments
        )

    def _note_usage(self, metadata: Any) -> None:
        """Counts arrive on the last chunk only; earlier chunks carry just ``trafficType``."""
        if not isinstance(metadata, Mapping) or "promptTokenCount" not in metadata:
            return
        self._usage = usage_of(
            metadata,
            ("promptTokenCount",),
            COMPLETION_COUNTS,
            cached=("cachedContentTokenCount",),
            reasoning=("thoughtsTokenCount",),
            provider="Vertex",
        )
