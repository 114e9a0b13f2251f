"""Reasoning survives a tool-use round trip on every signing provider, through the real openai SDK.

Turn 1 asks a thinking model for a tool call; turn 2 replays the assistant
message exactly as the SDK handed it over (the non-streamed message object,
or the message the SDK's stream helper rebuilt from the deltas, which is what
frameworks keep) plus the tool result. The emulators refuse a follow-up whose
signatures did not come back, as Bedrock and Gemini 3 do, so a 200 on turn 2
proves the round trip, and the negative tests prove the emulators enforce it.
"""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("alias", ["vertex", "vertex-native"])
@pytest.mark.parametrize("streamed", [False, True], ids=["message", "rebuilt-from-deltas"])
def test_gemini_thought_signature_comes_back_on_the_tool_call(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, streamed: bool
) -> None:
    assistant = first_turn(every_provider_sdk, alias, streamed)
    assert assistant["reasoning_content"] == REASONING
    signature = assistant["tool_calls"][0]["extra_content"]["google"]["thought_signature"]
    assert signature
    second_turn(every_provider_sdk, alias, assistant)
    body = last_body(alias_emulators[alias])
    if alias == "vertex":
        replayed = next(m for m in body["messages"] if m["role"] == "assistant")["tool_calls"][0]
        assert replayed["extra_content"] == {"google": {"thought_signature": signature}}
    else:
        model_turn = next(c for c in body["contents"] if c["role"] == "model")
        assert model_turn["parts"][-1]["thoughtSignature"] == signature


@pytest.mark.parametrize("alias", ["vertex", "vertex-native"])
def test_gemini_refuses_a_tool_call_replayed_without_its_signature(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    assistant = first_turn(every_provider_sdk, alias, streamed=False)
    del assistant["tool_calls"][0]["extra_content"]
    with pytest.raises(openai.BadRequestError, match="missing a `thought_signature`"):
        second_turn(every_provider_sdk, alias, assistant)


def test_bedrock_thinking_replayed_to_gemini_is_dropped(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    """A conversation moved to another provider (an alias change, a failover) loses only what it cannot use."""
    assistant = first_turn(every_provider_sdk, "bedrock", streamed=False)
    second_turn(every_provider_sdk, "vertex-native", assistant)
    sent = json.dumps(last_body(alias_emulators["vertex-native"]))
    assert reasoning_signature(REASONING) not in sent and REDACTED not in sent
    assert "get_weather" in sent  # the call itself went


def test_gemini_signatures_replayed_to_bedrock_are_dropped(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    """Bedrock refuses a signature it never issued, so a Google block reaching it would fail the turn."""
    assistant = first_turn(every_provider_sdk, "vertex-native", streamed=False)
    signature = assistant["tool_calls"][0]["extra_content"]["google"]["thought_signature"]
    assistant["thinking_blocks"] = [{"type": "thinking", "thinking": "t", "signature": signature, "provider": "google"}]
    second_turn(every_provider_sdk, "bedrock", assistant)
    sent = json.dumps(last_body(alias_emulators["bedrock"]))
    assert signature not in sent and "reasoningContent" not in sent


def test_bedrock_refuses_a_signature_it_never_issued(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    assistant = first_turn(every_provider_sdk, "bedrock", streamed=False)
    assistant["thinking_blocks"][0]["signature"] = reasoning_signature("something else")
    with pytest.raises(openai.BadRequestError, match="Invalid `signature`"):
        second_turn(every_provider_sdk, "bedrock", assistant)


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("thinking_blocks", [{"type": "thinking"}], "messages[1].thinking_blocks[0].thinking"),
        ("thinking_blocks", [{"type": "secret"}], "messages[1].thinking_blocks[0]"),
        ("thinking_blocks", [{"type": "redacted_thinking", "data": ""}], "messages[1].thinking_blocks[0].data"),
        ("thinking_blocks", "signed", "messages[1].thinking_blocks"),
        ("reasoning_content", 7, "messages[1].reasoning_content"),
    ],
)
def test_a_malformed_replay_is_a_400_naming_the_field(
    every_provider_sdk: openai.OpenAI, field: str, value: Any, param: str
) -> None:
    assistant = {"role": "assistant", "content": "ok", field: value}
    messages: Any = [{"role": "user", "content": "hi"}, assistant]
    with pytest.raises(openai.BadRequestError) as raised:
        every_provider_sdk.chat.completions.create(model="bedrock", messages=messages)
    assert raised.value.body["param"] == param  # type: ignore[index]


def test_a_malformed_tool_call_signature_is_a_400_naming_it(every_provider_sdk: openai.OpenAI) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    call["extra_content"] = {"google": {"thought_signature": ""}}
    messages: Any = [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [call]}]
    with pytest.raises(openai.BadRequestError) as raised:
        every_provider_sdk.chat.completions.create(model="vertex", messages=messages)
    assert raised.value.body["param"] == "messages[1].tool_calls[0].extra_content.google.thought_signature"  # type: ignore[index]


def test_azure_gets_no_replayed_reasoning(every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]) -> None:
    """Azure OpenAI takes neither signed blocks nor Google's signatures back: none are sent."""
    assistant = first_turn(every_provider_sdk, "vertex-native", streamed=False)
    assistant["thinking_blocks"] = [{"type": "thinking", "thinking": "t", "signature": "s", "provider": "bedrock"}]
    second_turn(every_provider_sdk, "azure", assistant)
    replayed = next(m for m in last_body(alias_emulators["azure"])["messages"] if m["role"] == "assistant")
    assert set(replayed) == {"role", "tool_calls"} and set(replayed["tool_calls"][0]) == {"id", "type", "function"}


# ---------------------------------------------------------------- the Responses route


def responses_first_turn(sdk: openai.OpenAI, alias: str, streamed: bool) -> list[Any]:
    """Turn 1's output items as the SDK gives them (the final response of a stream, or the response)."""
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": CITY}]
    if streamed:
        with sdk.responses.stream(model=alias, input=first_prompt(alias), tools=tools) as stream:
            response = stream.get_final_response()
    else:
        response = sdk.responses.create(model=alias, input=first_prompt(alias), tools=tools)
    return list(response.output)


def responses_second_turn(sdk: openai.OpenAI, alias: str, output: list[Any]) -> Any:
    call = next(item for item in output if item.type == "function_call")
    result = {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "clear"}'}
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": CITY}]
    items: Any = [{"role": "user", "content": first_prompt(alias)}, *output, result]
    return sdk.responses.create(model=alias, input=items, tools=tools)


@pytest.mark.parametrize("alias", SIGNING)
@pytest.mark.parametrize("streamed", [False, True], ids=["response", "streamed"])
def test_responses_output_items_replayed_keep_the_signatures(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, streamed: bool
) -> None:
    output = responses_first_turn(every_provider_sdk, alias, streamed)
    if alias == "bedrock":
        sealed = [item.encrypted_content for item in output if item.type == "reasoning"]
        assert len(sealed) == 2 and all(value.startswith("relay1.") for value in sealed)
    else:
        call = next(item for item in output if item.type == "function_call")
        assert call.extra_content["google"]["thought_signature"]  # type: ignore[attr-defined]
    assert responses_second_turn(every_provider_sdk, alias, output).status == "completed"


@pytest.mark.parametrize("alias", SIGNING)
def test_responses_replay_without_the_signatures_is_refused(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    output = [item.model_dump(exclude_none=True) for item in responses_first_turn(every_provider_sdk, alias, False)]
    stripped = [
        {key: value for key, value in item.items() if key != "extra_content"}
        for item in output
        if item["type"] != "reasoning"
    ]
    with pytest.raises(openai.BadRequestError):
        responses_second_turn_items(every_provider_sdk, alias, stripped)


def responses_second_turn_items(sdk: openai.OpenAI, alias: str, output: list[dict[str, Any]]) -> Any:
    call = next(item for item in output if item["type"] == "function_call")
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "{}"}
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": CITY}]
    items: Any = [{"role": "user", "content": first_prompt(alias)}, *output, result]
    return sdk.responses.create(model=alias, input=items, tools=tools)


def test_responses_encrypted_content_not_from_the_relay_is_a_400(every_provider_sdk: openai.OpenAI) -> None:
    items: Any = [
        {"role": "user", "content": "hi"},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAB-openai-sealed"},
    ]
    with pytest.raises(openai.BadRequestError) as raised:
        every_provider_sdk.responses.create(model="bedrock", input=items)
    assert raised.value.body["param"] == "input[1].encrypted_content"  # type: ignore[index]


def test_reasoning_on_a_user_message_is_a_400(every_provider_sdk: openai.OpenAI) -> None:
    block = {"type": "thinking", "thinking": "t", "signature": "s"}
    messages: Any = [{"role": "user", "content": "hi", "thinking_blocks": [block]}]
    with pytest.raises(openai.BadRequestError, match="only an assistant message has"):
        every_provider_sdk.chat.completions.create(model="bedrock", messages=messages)


@pytest.mark.parametrize("alias", SIGNING)
def test_the_message_object_itself_can_be_replayed(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    """The SDK serialises a response's message object put straight into ``messages``; the signatures go with it."""
    user: Any = {"role": "user", "content": first_prompt(alias)}
    create = every_provider_sdk.chat.completions.create
    message = create(model=alias, messages=[user], tools=TOOLS).choices[0].message
    assert message.tool_calls
    result = {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "{}"}
    messages: Any = [user, message, result]
    assert create(model=alias, messages=messages, tools=TOOLS).choices[0].finish_reason
    signature = (
        reasoning_signature(REASONING)
        if alias == "bedrock"
        else message.tool_calls[0].extra_content["google"]["thought_signature"]
    )  # type: ignore[union-attr]
    assert signature in json.dumps(last_body(alias_emulators[alias]))
