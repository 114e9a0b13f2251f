"""Extended thinking on the Bedrock emulator, through boto3: signed blocks out, enforced on the way back."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.bedrock_events import reasoning_signature
from devtools.emulators.scenario import inline_prompt
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import MODEL, read_all

REASONING = "Check the weather tool."
REDACTED = b"opaque thoughts"
PROMPT = inline_prompt(
    text="", reasoning=REASONING, redacted_reasoning="b3BhcXVlIHRob3VnaHRz", tool_calls=[{"name": "f", "id": "t1"}]
)
TOOLS = {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]}
THINKING = {"reasoningContent": {"reasoningText": {"text": REASONING, "signature": reasoning_signature(REASONING)}}}


def follow_up(client: BaseClient, assistant: list[dict[str, Any]]) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": [{"text": PROMPT}]},
        {"role": "assistant", "content": assistant},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}]},
    ]
    response: dict[str, Any] = client.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS)
    return response


def first_turn(client: BaseClient) -> list[dict[str, Any]]:
    messages = [{"role": "user", "content": [{"text": PROMPT}]}]
    return read_all(client.converse_stream(modelId=MODEL, messages=messages, toolConfig=TOOLS))


def test_thinking_streams_text_then_signature_then_redacted_block(client: BaseClient) -> None:
    deltas = [e["contentBlockDelta"]["delta"] for e in first_turn(client) if "contentBlockDelta" in e]
    reasoning = [delta["reasoningContent"] for delta in deltas if "reasoningContent" in delta]
    assert "".join(piece.get("text", "") for piece in reasoning) == REASONING
    assert reasoning[-2:] == [{"signature": reasoning_signature(REASONING)}, {"redactedContent": REDACTED}]


def test_a_follow_up_with_the_signed_blocks_is_accepted(client: BaseClient) -> None:
    first_turn(client)
    redacted = {"reasoningContent": {"redactedContent": REDACTED}}
    tool_use = {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}
    answer = follow_up(client, [THINKING, redacted, tool_use])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200 and answer["output"]["message"]["content"]


@pytest.mark.parametrize("dropped", ["thinking", "redacted"])
def test_a_follow_up_missing_the_thinking_is_a_validation_exception(client: BaseClient, dropped: str) -> None:
    first_turn(client)
    blocks = [] if dropped == "thinking" else [THINKING]
    with pytest.raises(ClientError) as raised:
        follow_up(client, [*blocks, {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "a final `assistant` message must start with a thinking block" in str(raised.value)


def test_a_signature_never_issued_is_invalid(client: BaseClient) -> None:
    forged = {"reasoningContent": {"reasoningText": {"text": "x", "signature": reasoning_signature("x")}}}
    with pytest.raises(ClientError, match="Invalid `signature` in `thinking` block"):
        follow_up(client, [forged, {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}])


def test_a_reset_forgets_the_signatures(client: BaseClient, app: BedrockEmulator) -> None:
    first_turn(client)
    app.book.clear()
    with pytest.raises(ClientError, match="Invalid `signature`"):
        follow_up(client, [THINKING, {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}])
