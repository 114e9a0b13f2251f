"""The scenario language every emulator understands.

A scenario says what one upstream response looks like: the text and how it is
cut into deltas, the pacing, tool calls, and which fault to inject. Tests pick
a scenario in one of three ways, first match wins:

1. inline, per request: the last user message starts with ``#emulate`` followed
   by a JSON object on the same line (the rest of the message is ignored);
2. per backend: ``POST /_emulator/scenarios`` with ``{"key": ..., "scenario": ...}``
   where ``key`` is the deployment, model id or model name the request targets,
   or ``"*"`` for every request;
3. the emulator's default scenario, given when the app is built.

Unknown fields are rejected so that a typo in a test fails loudly.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

INLINE_PREFIX = "#emulate"
# What an upstream may do instead of answering: drop the connection, or accept it and say nothing.
BEFORE_HEADERS_FAULTS = (None, "close", "stall")

DEFAULT_TEXT = (
    "Hello from the emulator! こんにちは、世界。Streaming works 🚀🎉 — every byte arrives as soon as it is sent."
)


@dataclass(frozen=True)
class ToolCallScript:
    """One tool call the upstream should stream, its arguments cut into pieces."""

    name: str
    arguments: str = "{}"
    id: str | None = None
    pieces: int = 3


@dataclass(frozen=True)
class Scenario:
    """What one upstream response looks like. Every field has a harmless default.

    Faults, besides a non-200 ``status``: ``before_headers`` ("close" drops the
    connection unanswered, "stall" accepts it and never answers);
    ``headers_delay_ms`` holds a streamed response's status line that long;
    ``error_after``, ``close_after`` and ``stall_after`` end a stream after that
    many frames; ``malformed_after`` slips one corrupt frame in there and goes
    on; ``malformed_usage`` reports a token count that is not a number;
    ``cached_tokens`` and ``cache_write_tokens`` say how many of the prompt
    tokens were read from and written to the prompt cache, each emulator
    reporting them in its service's own usage fields;
    ``throttle_headers`` false sends a 429 without Retry-After, as a gateway
    in front of the service may.

    ``reasoning`` makes the model think first, and a thinking model signs its
    thoughts: Bedrock closes the reasoning block with a signature, Gemini puts
    a thought signature on each function call (and on its last text part).
    ``redacted_reasoning`` (base64) adds a Bedrock ``redactedContent`` block.
    The emulator remembers the signatures it put beside tool calls and refuses
    a follow-up that replays those calls without them, as the services do.
    """

    text: str = DEFAULT_TEXT
    chunks: int | None = None
    delay_ms: float = 0.0
    first_delay_ms: float = 0.0
    status: int = 200
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    ratelimit_remaining_requests: int | None = None
    ratelimit_remaining_tokens: int | None = None
    ratelimit_reset_requests: str | None = None
    ratelimit_reset_tokens: str | None = None
    error_after: int | None = None
    close_after: int | None = None
    stall_after: int | None = None
    byte_split: int | None = None
    tool_calls: tuple[ToolCallScript, ...] = ()
    reasoning: str = ""
    redacted_reasoning: str = ""
    finish_reason: str | None = None
    content_filter: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    before_headers: str | None = None
    headers_delay_ms: float = 0.0
    malformed_after: int | None = None
    malformed_usage: bool = False
    throttle_headers: bool = True

    def text_pieces(self) -> list[str]:
        """The content deltas, in order; joined they are exactly :attr:`text`."""
        return split_text(self.text, self.chunks)

    def reasoning_pieces(self) -> list[str]:
        """Reasoning deltas: the reasoning text cut into at most eight pieces."""
        if not self.reasoning:
            return []
        return split_text(self.reasoning, min(8, len(self.reasoning)))

    def usage(self, prompt_chars: int = 0) -> tuple[int, int]:
        """Prompt and completion token counts, about four characters a token."""
        prompt = self.prompt_tokens
        if prompt is None:
            prompt = max(1, math.ceil(prompt_chars / 4))
        completion = self.completion_tokens
        if completion is None:
            completion = max(1, len(self.text_pieces()))
        return prompt, completion

    def cache_counts(self, prompt: int) -> tuple[int, int]:
        """Prompt tokens read from and written to the cache, never more than the prompt holds."""
        read = min(max(0, self.cached_tokens), prompt)
        return read, min(max(0, self.cache_write_tokens), prompt - read)


def split_text(text: str, chunks: int | None) -> list[str]:
    """Cut ``text`` into ``chunks`` non-empty pieces of near-equal length.

    With ``chunks`` unset the text is cut into pieces of about four characters,
    the way real models emit tokens. When ``chunks`` exceeds the text's length
    the text is repeated until every piece can hold one character, so a
    benchmark can ask for any number of chunks.
    """
    if not text:
        return []
    if chunks is None:
        chunks = max(1, math.ceil(len(text) / 4))
    if chunks > len(text):
        text = (text * math.ceil(chunks / len(text)))[:chunks]
    size, extra = divmod(len(text), chunks)
    pieces: list[str] = []
    start = 0
    for index in range(chunks):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


class ScenarioError(ValueError):
    """A scenario document that does not describe a valid scenario."""


_FIELDS = {f.name: f for f in dataclasses.fields(Scenario)}


def parse_scenario(document: dict[str, Any] | None) -> Scenario:
    """Build a scenario from JSON, rejecting unknown fields."""
    if not document:
        return Scenario()
    if not isinstance(document, dict):
        raise ScenarioError("a scenario must be a JSON object")
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        raise ScenarioError(f"unknown scenario fields: {', '.join(unknown)}")
    values = dict(document)
    if values.get("before_headers") not in BEFORE_HEADERS_FAULTS:
        raise ScenarioError(f"before_headers must be one of: {', '.join(map(str, BEFORE_HEADERS_FAULTS[1:]))}")
    if "tool_calls" in values:
        values["tool_calls"] = tuple(_parse_tool_call(call) for call in values["tool_calls"])
    return Scenario(**values)


def _parse_tool_call(call: Any) -> ToolCallScript:
    if not isinstance(call, dict) or "name" not in call:
        raise ScenarioError("each tool call needs at least a name")
    arguments = call.get("arguments", "{}")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCallScript(
        name=call["name"],
        arguments=arguments,
        id=call.get("id"),
        pieces=int(call.get("pieces", 3)),
    )


def scenario_from_prompt(prompt: str | None) -> Scenario | None:
    """The inline scenario a prompt carries, or None when it carries none."""
    if not prompt:
        return None
    stripped = prompt.lstrip()
    if not stripped.startswith(INLINE_PREFIX):
        return None
    first_line = stripped[len(INLINE_PREFIX) :].split("\n", 1)[0].strip()
    try:
        document = json.loads(first_line) if first_line else {}
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"inline scenario is not JSON: {exc}") from exc
    return parse_scenario(document)


def inline_prompt(**scenario: Any) -> str:
    """The user message that makes an emulator play ``scenario``; for tests."""
    return f"{INLINE_PREFIX} {json.dumps(scenario, ensure_ascii=False)}"


@dataclass
class ScenarioBook:
    """Per-backend scenarios set through the admin API, plus the default."""

    default: Scenario = field(default_factory=Scenario)
    by_key: dict[str, Scenario] = field(default_factory=dict)
    # What the emulator signed beside each tool call it issued (by call id), checked when a request replays it.
    signatures: dict[str, Any] = field(default_factory=dict)

    def choose(self, key: str, prompt: str | None) -> Scenario:
        """The scenario for one request: inline, then per key, then ``*``, then default."""
        inline = scenario_from_prompt(prompt)
        if inline is not None:
            return inline
        return self.by_key.get(key) or self.by_key.get("*") or self.default

    def set(self, key: str, document: dict[str, Any]) -> None:
        """Script every later request to ``key``."""
        self.by_key[key] = parse_scenario(document)

    def clear(self) -> None:
        """Forget every per-key scenario and every signature issued."""
        self.by_key.clear()
        self.signatures.clear()
