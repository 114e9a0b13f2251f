"""Signed reasoning in the OpenAI dialects: chat deltas and messages, Responses items, and back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.dialects.openai_chat import ChunkEncoder, collect_completion
from shared.dialects.responses import ResponseBuilder
from shared.events import Finish, ReasoningDelta, StreamEvent, ToolCallDelta
from shared.reasoning_blocks import decode_encrypted_content, encrypted_content
from shared.responses_items import translate_input

EVENTS: list[StreamEvent] = [
    ReasoningDelta("Think "),
    ReasoningDelta("hard."),
    ReasoningDelta("", signature="c2ln", provider="bedrock"),
    ReasoningDelta("", redacted="cmVk", provider="bedrock"),
    ToolCallDelta(0, "c1", "f", "{}", signature="Z3N"),
    Finish("tool_calls"),
]
THINKING = {"type": "thinking", "thinking": "Think hard.", "signature": "c2ln", "provider": "bedrock"}
REDACTED = {"type": "redacted_thinking", "data": "cmVk", "provider": "bedrock"}
GOOGLE = {"google": {"thought_signature": "Z3N"}}


def deltas(encoder: ChunkEncoder, events: list[StreamEvent]) -> list[dict[str, Any]]:
    raw = b"".join(encoder.encode(event) for event in events).decode()
    chunks = [json.loads(line[6:]) for line in raw.split("\n") if line.startswith("data: {")]
    return [chunk["choices"][0]["delta"] for chunk in chunks]


def test_the_delta_that_closes_a_block_carries_the_whole_block_with_its_index() -> None:
    streamed = deltas(ChunkEncoder(model="m"), EVENTS)
    assert [d.get("reasoning_content") for d in streamed[:2]] == ["Think ", "hard."]
    assert streamed[2] == {"thinking_blocks": [{**THINKING, "index": 0}]}
    assert streamed[3] == {"thinking_blocks": [{**REDACTED, "index": 1}]}
    assert streamed[4]["tool_calls"][0]["extra_content"] == GOOGLE


async def _events() -> AsyncIterator[StreamEvent]:
    for event in EVENTS:
        yield event


@pytest.mark.anyio
async def test_the_message_carries_text_blocks_and_the_call_signature() -> None:
    message = (await collect_completion(_events(), "m"))["choices"][0]["message"]
    assert message["reasoning_content"] == "Think hard."
    assert message["thinking_blocks"] == [THINKING, REDACTED]
    assert message["tool_calls"][0]["extra_content"] == GOOGLE


def test_responses_seal_each_signed_block_in_its_own_reasoning_item() -> None:
    builder = ResponseBuilder(model="m")
    emitted = [body for event in EVENTS for body in builder.add(event)]
    reasoning, redacted, call = builder.document()["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Think hard."}]
    assert decode_encrypted_content(reasoning["encrypted_content"]) == {"provider": "bedrock", "signature": "c2ln"}
    assert redacted["content"] == [] and decode_encrypted_content(redacted["encrypted_content"])["redacted"] == "cmVk"
    assert call["extra_content"] == GOOGLE
    added = [body["item"] for body in emitted if body["type"] == "response.output_item.added"]
    assert added[-1]["extra_content"] == GOOGLE  # known from the call's first fragment


def test_responses_input_puts_each_sealed_item_on_its_assistant_turn() -> None:
    before = ReasoningDelta("", signature="c2ln", provider="bedrock")
    after = ReasoningDelta("", signature="dGV4dA==", provider="google")
    items: list[Any] = [
        {"role": "user", "content": "hi"},
        {
            "type": "reasoning",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": "plan"}],
            "encrypted_content": encrypted_content(before),
        },
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "extra_content": GOOGLE},
        {"type": "function_call_output", "call_id": "c1", "output": "{}"},
        {"role": "assistant", "content": "done"},
        {"type": "reasoning", "summary": [], "encrypted_content": encrypted_content(after)},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "unsigned"}]},
    ]
    messages = translate_input(items)
    assert messages[1]["thinking_blocks"] == [
        {"type": "thinking", "thinking": "plan", "signature": "c2ln", "provider": "bedrock"}
    ]
    assert messages[1]["tool_calls"][0]["extra_content"] == GOOGLE
    assert messages[3]["thinking_blocks"] == [
        {"type": "thinking", "thinking": "", "signature": "dGV4dA==", "provider": "google"}
    ]
    assert len(messages) == 4
