"""A Responses body, validated and translated into the chat request the relay serves; every refusal a 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.errors import InvalidRequest
from shared.responses_request import ResponsesBody, parse_responses_request, to_chat_request


def chat_of(**body: Any) -> ChatRequest:
    return to_chat_request(parse_responses_request(json.dumps({"model": "m", **body}).encode()))


def messages_of(**body: Any) -> list[dict[str, Any]]:
    return [message.model_dump(exclude_none=True) for message in chat_of(**body).messages]


def refusal(body: dict[str, Any], raw: bytes | None = None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        to_chat_request(parse_responses_request(raw or json.dumps({"model": "m", **body}).encode()))
    assert raised.value.status == 400
    return raised.value


def test_a_string_input_is_one_user_message_after_the_instructions() -> None:
    assert messages_of(input="Hi", instructions="Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


def test_text_parts_join_and_images_stay_parts() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}
    items = [
        {"role": "developer", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "see"}, image]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "ok", "annotations": []}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
    ]
    messages = messages_of(input=items)
    assert messages[0] == {"role": "developer", "content": "ab"}
    assert messages[1]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": image["image_url"], "detail": "low"}},
    ]
    assert messages[2:] == [{"role": "assistant", "content": "ok"}, {"role": "assistant", "content": "no"}]


def test_function_calls_join_the_assistant_turn_and_outputs_become_tool_messages() -> None:
    items = [
        {"role": "user", "content": "weather?"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "hm"}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}', "id": "fc_1"},
        {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}", "status": "completed"},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
    ]
    messages = messages_of(input=items)
    assert [message["role"] for message in messages] == ["user", "assistant", "tool", "tool"]
    assert [call["id"] for call in messages[1]["tool_calls"]] == ["c1", "c2"]
    assert messages[1]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "two"},
    ]


def test_sampling_tools_and_formats_translate() -> None:
    chat = chat_of(
        input="x",
        max_output_tokens=50,
        temperature=0.5,
        top_p=0.9,
        user="u1",
        parallel_tool_calls=False,
        reasoning={"effort": "low", "summary": "auto"},
        tools=[{"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True}],
        tool_choice={"type": "function", "name": "f"},
        text={"format": {"type": "json_schema", "name": "n", "schema": {"type": "object"}, "strict": True}},
        stream=True,
    )
    assert chat.sampling_parameters() == {
        "max_completion_tokens": 50,
        "temperature": 0.5,
        "top_p": 0.9,
        "user": "u1",
        "tools": [
            {
                "type": "function",
                "function": {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True},
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True},
        },
        "reasoning_effort": "low",
    }
    assert chat.stream is True


@pytest.mark.parametrize(
    ("text_format", "expected"),
    [({"type": "text"}, None), ({"type": "json_object"}, {"type": "json_object"})],
)
def test_plain_text_asks_for_nothing_and_json_object_passes(text_format: dict[str, Any], expected: Any) -> None:
    assert chat_of(input="x", text={"format": text_format}).response_format == expected


def test_harmless_fields_become_their_chat_namesakes_or_stay_behind() -> None:
    """Chat namesakes follow the chat route's per-provider parameter policy; the rest is Responses-only."""
    chat = chat_of(
        input="x",
        metadata={"k": "v"},
        include=["reasoning.encrypted_content"],
        truncation="disabled",
        service_tier="auto",
        prompt_cache_key="p",
        safety_identifier="s",
        store=False,
        background=False,
        stream_options={"include_obfuscation": False},
        text={"verbosity": "low"},
        reasoning={"summary": "auto"},
    )
    sent = chat.model_dump(exclude_none=True, exclude={"model", "messages", "stream"})
    assert sent == {
        "metadata": {"k": "v"},
        "service_tier": "auto",
        "prompt_cache_key": "p",
        "safety_identifier": "s",
        "verbosity": "low",
        "stream_options": {"include_usage": False, "include_obfuscation": False},
    }


def test_metadata_is_held_to_openais_limits() -> None:
    assert refusal({"input": "x", "metadata": {f"k{n}": "v" for n in range(17)}}).param == "metadata"


def test_the_echo_repeats_the_request_in_responses_shape() -> None:
    body = ResponsesBody()
    tool = {"type": "function", "name": "f", "parameters": {"type": "object"}}
    body(json.dumps({"model": "m", "input": "x", "tools": [tool], "tool_choice": "required"}).encode())
    echo = body.echo()
    assert (echo["tools"], echo["tool_choice"], echo["store"], echo["parallel_tool_calls"]) == (
        [tool],
        "required",
        False,
        True,
    )
    assert echo["text"] == {"format": {"type": "text"}}


STATELESS = [
    ({"store": True}, "store"),
    ({"previous_response_id": "resp_1"}, "previous_response_id"),
    ({"conversation": {"id": "conv_1"}}, "conversation"),
    ({"background": True}, "background"),
]


@pytest.mark.parametrize(("fields", "param"), STATELESS)
def test_state_is_refused_with_a_hint(fields: dict[str, Any], param: str) -> None:
    error = refusal({"input": "x", **fields})
    assert error.param == param and "send the whole conversation" in error.message


REFUSED = [
    ({"input": "x", "max_tokens": 5}, "max_tokens"),
    ({}, "input"),
    ({"input": []}, "input"),
    ({"input": "x", "truncation": "auto"}, "truncation"),
    ({"input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"input": "x", "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools[0].name"),
    ({"input": "x", "tool_choice": {"type": "allowed_tools"}}, "tool_choice"),
    ({"input": "x", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
    ({"input": "x", "text": {"format": {"type": "json_schema", "name": "n"}}}, "text.format.schema"),
    ({"input": "x", "reasoning": {"effort": "extreme"}}, "reasoning.effort"),
    ({"input": "x", "max_output_tokens": 0}, "max_output_tokens"),
    ({"input": "x", "temperature": 3}, "temperature"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
    ({"input": [{"role": "user", "content": "x"}, "hi"]}, "input[1]"),
    ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}, 7]}]}, "input[0].content[1]"),
    ({"input": [{"type": "web_search_call"}]}, "input[0].type"),
    ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
    ({"input": [{"role": "user", "content": "x", "extra": 1}]}, "input[0].extra"),
    ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input[0].content[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_text"}]}]}, "input[0].content[0].text"),
    (
        {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
        "input[0].content[0].image_url",
    ),
    ({"input": [{"role": "system", "content": [{"type": "input_image", "image_url": "u"}]}]}, "input[0].content[0]"),
    ({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0].arguments"),
    ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
    (
        {
            "input": [
                {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image", "image_url": "u"}]}
            ]
        },
        "input[0].output[0]",
    ),
    (
        {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "[" * 100 + "]" * 100}]},
        "input[0].arguments",
    ),
]


@pytest.mark.parametrize(("body", "param"), REFUSED)
def test_bad_input_is_a_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    assert refusal(body).param == param


@pytest.mark.parametrize("raw", [b"[]", b'{"model": "m", "input": NaN}', b'{"model": "m", "input": "\\ud800"}', b"{"])
def test_bodies_no_provider_takes_are_refused_first(raw: bytes) -> None:
    refusal({}, raw=raw)


def test_items_replayed_from_an_sdk_helper_keep_their_parsed_fields_out_of_the_upstream() -> None:
    """openai-node's and openai-python's stream helpers add ``parsed_arguments``/``parsed`` to the items they
    return; a client that sends those items back as the next turn's input must be accepted."""
    items = [
        {"role": "user", "content": "weather?"},
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "content": [{"type": "output_text", "text": "{}", "annotations": [], "logprobs": [], "parsed": {}}],
        },
        {
            "type": "function_call",
            "call_id": "c1",
            "name": "f",
            "arguments": '{"a": 1}',
            "parsed_arguments": {"a": 1},
            "id": "fc_1",
            "status": "completed",
        },
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
    ]
    messages = messages_of(input=items)
    assert messages[1]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert "parsed_arguments" not in json.dumps(messages)
    assert messages[1]["content"] == "{}"
