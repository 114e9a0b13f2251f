"""What a successful Bedrock response says: ConverseStream events and the Converse body.

Bedrock sends a turn as typed events in a fixed order (see :mod:`.bedrock`);
these functions build them from a scenario, leaving framing, pacing and faults
to the emulator app. The non-streaming ``Converse`` body is built from the same
script so that both operations agree on text, tool calls and usage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

from .scenario import Scenario, ToolCallScript, split_text

Event = tuple[str, dict[str, Any]]


def stop_reason(scenario: Scenario) -> str:
    """Bedrock's stopReason: ``finish_reason`` verbatim, else tool_use / content_filtered / end_turn."""
    if scenario.finish_reason:
        return scenario.finish_reason
    if scenario.tool_calls:
        return "tool_use"
    return "content_filtered" if scenario.content_filter else "end_turn"


def tool_use_id(call: ToolCallScript) -> str:
    """The scripted id, or one shaped like Bedrock's: ``tooluse_`` + 22 URL-safe characters."""
    return call.id or "tooluse_" + secrets.token_urlsafe(16)[:22]


def reasoning_signature(reasoning: str) -> str:
    """An opaque base64 signature, stable for one reasoning text like a real one is."""
    return base64.b64encode(hashlib.sha512(reasoning.encode("utf-8")).digest() * 2).decode("ascii")


def latency_ms(scenario: Scenario, steps: int) -> int:
    """The latencyMs Bedrock would report for the script's pacing."""
    return max(1, round(scenario.first_delay_ms + scenario.delay_ms * max(0, steps - 1)))


def usage(scenario: Scenario, chars: int) -> dict[str, Any]:
    """The TokenUsage structure for the scenario."""
    if scenario.malformed_usage:
        return {"inputTokens": "x", "outputTokens": None, "totalTokens": None}
    prompt, completion = scenario.usage(chars)
    read, write = scenario.cache_counts(prompt)
    usage = {"inputTokens": prompt - read - write, "outputTokens": completion, "totalTokens": prompt + completion}
    if read or write:
        # Bedrock's inputTokens leaves the cached part out; the total still counts it.
        usage |= {"cacheReadInputTokens": read, "cacheWriteInputTokens": write}
    return usage


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return "contentBlockDelta", {"contentBlockIndex": index, "delta": delta}


def _stop(index: int) -> Event:
    return "contentBlockStop", {"contentBlockIndex": index}


def _argument_pieces(call: ToolCallScript) -> list[str]:
    # Never more pieces than characters: split_text would repeat the text.
    return split_text(call.arguments, max(1, min(call.pieces, len(call.arguments)))) or [""]


def stream_events(scenario: Scenario, chars: int, ids: Sequence[str]) -> list[Event]:
    """Every ConverseStream event for the scenario, in wire order."""
    events: list[Event] = [("messageStart", {"role": "assistant"})]
    index = 0
    if scenario.reasoning:
        deltas = [{"text": piece} for piece in scenario.reasoning_pieces()]
        deltas.append({"signature": reasoning_signature(scenario.reasoning)})
        events += [*(_delta(index, {"reasoningContent": delta}) for delta in deltas), _stop(index)]
        index += 1
    if scenario.redacted_reasoning:
        # A blob, base64 on the JSON wire; redacted reasoning comes as one whole block.
        events += [_delta(index, {"reasoningContent": {"redactedContent": scenario.redacted_reasoning}}), _stop(index)]
        index += 1
    if scenario.text:
        events += [*(_delta(index, {"text": piece}) for piece in scenario.text_pieces()), _stop(index)]
        index += 1
    for call, call_id in zip(scenario.tool_calls, ids, strict=True):
        start = {"start": {"toolUse": {"toolUseId": call_id, "name": call.name}}, "contentBlockIndex": index}
        events.append(("contentBlockStart", start))
        events += [*(_delta(index, {"toolUse": {"input": piece}}) for piece in _argument_pieces(call)), _stop(index)]
        index += 1
    events.append(("messageStop", {"stopReason": stop_reason(scenario)}))
    metrics = {"latencyMs": latency_ms(scenario, len(events) + 1)}
    events.append(("metadata", {"usage": usage(scenario, chars), "metrics": metrics}))
    return events


def converse_output(scenario: Scenario, chars: int, ids: Sequence[str]) -> dict[str, Any]:
    """The non-streaming Converse response for the same script."""
    content: list[dict[str, Any]] = []
    if scenario.reasoning:
        text = {"text": scenario.reasoning, "signature": reasoning_signature(scenario.reasoning)}
        content.append({"reasoningContent": {"reasoningText": text}})
    if scenario.redacted_reasoning:
        content.append({"reasoningContent": {"redactedContent": scenario.redacted_reasoning}})
    if scenario.text:
        content.append({"text": scenario.text})
    for call, call_id in zip(scenario.tool_calls, ids, strict=True):
        content.append({"toolUse": {"toolUseId": call_id, "name": call.name, "input": _tool_input(call.arguments)}})
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(scenario),
        "usage": usage(scenario, chars),
        "metrics": {"latencyMs": latency_ms(scenario, len(scenario.text_pieces()) + 1)},
    }


def _tool_input(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments
