"""Signed reasoning in the chat dialect: on the streamed delta that closes a block, and on the message."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.dialects.openai_chat import ChunkEncoder, collect_completion
from shared.events import Finish, ReasoningDelta, StreamEvent, ToolCallDelta

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
