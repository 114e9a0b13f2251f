"""Signatures in each provider's wire format, to canonical events and back: the translation alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.chat_request import ChatRequest, parse_chat_request
from shared.errors import Untranslatable
from shared.events import ReasoningDelta, TextDelta, ToolCallDelta
from shared.providers.bedrock.request import converse_params
from shared.providers.openai_compatible import chunk_to_events
from shared.providers.vertex.native_request import gemini_request
from shared.providers.vertex.native_response import ResponseTranslator
from shared.providers.vertex.openai_api import with_thought_signatures

CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
GOOGLE_CALL = {**CALL, "extra_content": {"google": {"thought_signature": "Z3N"}}}


def request(assistant: dict[str, Any]) -> ChatRequest:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", **assistant},
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
    ]
    return parse_chat_request(
        json.dumps(
            {"model": "m", "messages": messages, "tools": [{"type": "function", "function": {"name": "f"}}]}
        ).encode()
    )


def test_gemini_signatures_become_events_on_their_parts() -> None:
    translator = ResponseTranslator()
    parts = [
        {"text": "plan", "thought": True},
        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "Y2FsbA=="},
        {"text": "done", "thoughtSignature": "dGV4dA=="},
    ]
    events = translator.events({"candidates": [{"content": {"parts": parts}}]})
    assert events[0] == ReasoningDelta("plan")
    assert isinstance(events[1], ToolCallDelta) and events[1].signature == "Y2FsbA=="
    assert events[2:] == [TextDelta("done"), ReasoningDelta("", signature="dGV4dA==", provider="google")]


def test_gemini_gets_its_signatures_back_on_the_call_and_the_text() -> None:
    blocks = [
        {"type": "thinking", "thinking": "", "signature": "dGV4dA==", "provider": "google"},
        {"type": "thinking", "thinking": "x", "signature": "YmVk", "provider": "bedrock"},
    ]
    body = gemini_request(request({"content": "sure", "tool_calls": [GOOGLE_CALL], "thinking_blocks": blocks}))
    assert body["contents"][1]["parts"] == [
        {"text": "sure", "thoughtSignature": "dGV4dA=="},
        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "Z3N"},
    ]


def test_bedrock_gets_its_thinking_first_and_nothing_of_google() -> None:
    blocks = [
        {"type": "thinking", "thinking": "x", "signature": "c2ln", "provider": "bedrock", "index": 0},
        {"type": "redacted_thinking", "data": "cmVk", "provider": "bedrock"},
        {"type": "thinking", "thinking": "", "signature": "Z29v", "provider": "google"},
    ]
    params = converse_params(request({"content": "ok", "tool_calls": [GOOGLE_CALL], "thinking_blocks": blocks}), "m")
    assert params["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "x", "signature": "c2ln"}}},
        {"reasoningContent": {"redactedContent": b"red"}},
        {"text": "ok"},
        {"toolUse": {"toolUseId": "c1", "name": "f", "input": {"a": 1}}},
    ]


def test_bedrock_redacted_data_must_be_base64() -> None:
    blocks = [{"type": "redacted_thinking", "data": "not base64!", "provider": "bedrock"}]
    with pytest.raises(Untranslatable) as raised:
        converse_params(request({"content": "ok", "thinking_blocks": blocks}), "m")
    assert raised.value.param == "messages[1].thinking_blocks"


def test_the_compatible_endpoint_signature_is_relayed_and_written_back() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, **GOOGLE_CALL}]}}]}
    (event,) = chunk_to_events(chunk)
    assert isinstance(event, ToolCallDelta) and event.signature == "Z3N"
    chat = request({"content": None, "tool_calls": [GOOGLE_CALL]})
    dumped = [message.model_dump(exclude_none=True) for message in chat.messages]
    assert "extra_content" not in dumped[1]["tool_calls"][0]  # never sent to Azure
    with_thought_signatures(dumped, chat)
    assert dumped[1]["tool_calls"][0]["extra_content"] == {"google": {"thought_signature": "Z3N"}}
