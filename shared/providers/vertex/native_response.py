"""Gemini ``GenerateContentResponse`` chunks as canonical events.

Each chunk carries parts of the first candidate: ``text`` (or, with
``thought: true``, reasoning) and whole ``functionCall`` objects. A thinking
model signs a part with ``thoughtSignature``: on a function call it goes with
the call, on a text part it closes a block of reasoning; both are relayed,
tagged Google's, because Gemini 3 wants them back on the next turn. The last
chunk carries ``finishReason`` and the token counts; the stream has no
``[DONE]``. So :class:`ResponseTranslator` holds the finish reason and usage
until the upstream ends, and :meth:`ResponseTranslator.end` reports a stream
that ended without a finish reason as truncated.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import UpstreamError, UpstreamUnavailable
from ...events import GOOGLE, Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage
from ..upstream.usage import usage_of
from .finish_reasons import finish_failure, finish_reason

# Gemini omits a zero count. candidatesTokenCount leaves thoughts out, but they are billed as
# output and OpenAI's completion_tokens include reasoning, so both are summed. promptTokenCount
# already includes cachedContentTokenCount, as OpenAI's prompt_tokens include cached tokens.
COMPLETION_COUNTS = ("candidatesTokenCount", "thoughtsTokenCount")


def new_tool_call_id() -> str:
    """An id for a function call; Gemini's calls usually carry none."""
    return f"call_{secrets.token_hex(12)}"


class ResponseTranslator:
    """Turns one response's chunks into events, holding the finish until the end."""

    def __init__(self) -> None:
        self._tool_calls = 0
        self._reason: str | None = None
        self._failure: UpstreamError | None = None
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
        parts = (candidate.get("content") or {}).get("parts") or []
        events = [event for part in parts for event in self._part(part)]
        if candidate.get("finishReason"):
            self._note_finish(candidate["finishReason"])
        return events

    def end(self) -> Iterator[StreamEvent]:
        """Usage then the finish, once the upstream has ended cleanly; a failed finish raises after the usage."""
        if self._reason is None and self._failure is None:
            raise UpstreamUnavailable("the upstream stream ended before the model finished", code="upstream_truncated")
        if self._usage:
            yield self._usage
        if self._failure is not None:
            raise self._failure
        yield Finish(self._reason or "stop")

    def _note_finish(self, gemini_reason: str) -> None:
        self._failure = finish_failure(gemini_reason)
        if self._failure is None:
            self._reason = finish_reason(gemini_reason, self._tool_calls > 0)

    def _part(self, part: Mapping[str, Any]) -> list[StreamEvent]:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, Mapping):
            return [self._tool_call(call, signature)]
        events: list[StreamEvent] = []
        text = part.get("text")
        if isinstance(text, str) and text:
            events.append(ReasoningDelta(text) if part.get("thought") else TextDelta(text))
        if signature is not None:
            events.append(ReasoningDelta("", signature=signature, provider=GOOGLE))
        return events

    def _tool_call(self, call: Mapping[str, Any], signature: str | None = None) -> ToolCallDelta:
        index = self._tool_calls
        self._tool_calls += 1
        arguments = json.dumps(call.get("args") or {}, ensure_ascii=False, separators=(",", ":"))
        call_id = call.get("id") or new_tool_call_id()
        return ToolCallDelta(index=index, id=call_id, name=call.get("name"), arguments=arguments, signature=signature)

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
