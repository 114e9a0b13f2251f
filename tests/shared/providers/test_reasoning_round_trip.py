"""Reasoning survives a tool-use round trip on every signing provider, through the real openai SDK.

Turn 1 asks a thinking model for a tool call; turn 2 replays the assistant
message exactly as the SDK handed it over (the non-streamed message object,
or the message the SDK's stream helper rebuilt from the deltas, which is what
frameworks keep) plus the tool result. The emulators refuse a follow-up whose
signatures did not come back, as Bedrock and Gemini 3 do, so a 200 on turn 2
proves the round trip, and the negative tests prove the emulators enforce it.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from devtools.emulators.bedrock_events import reasoning_signature
from devtools.emulators.scenario import inline_prompt

REASONING = "The user wants the weather; call the tool."
REDACTED = "ZW5jcnlwdGVkIHJlYXNvbmluZw=="
CITY = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "parameters": CITY}}]
SIGNING = ["bedrock", "vertex", "vertex-native"]


def first_prompt(alias: str) -> str:
    extra = {"redacted_reasoning": REDACTED} if alias == "bedrock" else {}
    call = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    return inline_prompt(text="", reasoning=REASONING, tool_calls=[call], **extra)


def first_turn(sdk: openai.OpenAI, alias: str, streamed: bool) -> dict[str, Any]:
    """Turn 1's assistant message as the SDK gives it, dumped the way the SDK would send it back."""
    messages: Any = [{"role": "user", "content": first_prompt(alias)}]
    if streamed:
        with sdk.chat.completions.stream(model=alias, messages=messages, tools=TOOLS) as stream:
            message: Any = stream.get_final_completion().choices[0].message
    else:
        message = sdk.chat.completions.create(model=alias, messages=messages, tools=TOOLS).choices[0].message
    assert message.tool_calls, message
    dumped: dict[str, Any] = message.model_dump(exclude_unset=True, exclude_none=True)
    return dumped


def second_turn(sdk: openai.OpenAI, alias: str, assistant: dict[str, Any]) -> str | None:
    """Replay ``assistant`` with the tool's result; the answer's text."""
    messages: Any = [
        {"role": "user", "content": first_prompt(alias)},
        assistant,
        {"role": "tool", "tool_call_id": assistant["tool_calls"][0]["id"], "content": '{"sky": "clear"}'},
    ]
    return sdk.chat.completions.create(model=alias, messages=messages, tools=TOOLS).choices[0].message.content


def last_body(emulator: Any) -> dict[str, Any]:
    body: dict[str, Any] = emulator.recorder.records[-1].body
    return body


@pytest.mark.parametrize("streamed", [False, True], ids=["message", "rebuilt-from-deltas"])
def test_bedrock_thinking_and_signature_come_back(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], streamed: bool
) -> None:
    assistant = first_turn(every_provider_sdk, "bedrock", streamed)
    assert assistant["reasoning_content"] == REASONING
    blocks = [{key: value for key, value in block.items() if key != "index"} for block in assistant["thinking_blocks"]]
    assert blocks == [
        {"type": "thinking", "thinking": REASONING, "signature": reasoning_signature(REASONING), "provider": "bedrock"},
        {"type": "redacted_thinking", "data": REDACTED, "provider": "bedrock"},
    ]
    second_turn(every_provider_sdk, "bedrock", assistant)
    replayed = next(m for m in last_body(alias_emulators["bedrock"])["messages"] if m["role"] == "assistant")
    assert replayed["content"][:2] == [
        {"reasoningContent": {"reasoningText": {"text": REASONING, "signature": reasoning_signature(REASONING)}}},
        {"reasoningContent": {"redactedContent": REDACTED}},
    ]


def test_bedrock_refuses_a_follow_up_without_its_thinking(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    assistant = first_turn(every_provider_sdk, "bedrock", streamed=False)
    del assistant["thinking_blocks"]
    with pytest.raises(openai.BadRequestError, match="must start with a thinking block"):
        second_turn(every_provider_sdk, "bedrock", assistant)
