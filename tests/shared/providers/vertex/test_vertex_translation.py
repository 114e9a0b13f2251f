"""Vertex translation as tables: settings to URLs, requests to Gemini, chunks to events."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from shared.chat_request import ChatRequest
from shared.config import parse_config
from shared.errors import (
    ConfigError,
    Untranslatable,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from shared.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from shared.providers.vertex.google_errors import error_fields, retry_delay, status_error, stream_error
from shared.providers.vertex.native_api import chunk_document
from shared.providers.vertex.native_request import gemini_request
from shared.providers.vertex.native_response import ResponseTranslator, finish_reason
from shared.providers.vertex.openai_api import relay_error as openai_relay_error
from shared.providers.vertex.settings import VertexSettings


def settings(**fields: Any) -> VertexSettings:
    base = {
        "name": "v",
        "provider": "vertex",
        "project": "p",
        "location": "us-central1",
        "model": "gemini-2.0-flash-001",
    }
    return VertexSettings.model_validate({**base, **fields})


def chat(**fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "vertex", "messages": [{"role": "user", "content": "hi"}], **fields})


# ---------------------------------------------------------------- settings and URLs


@pytest.mark.parametrize(
    ("fields", "openai_base", "stream_url"),
    [
        (
            {},
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi",
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1"
            "/publishers/google/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse",
        ),
        (
            {"location": "global", "model": "google/gemini-2.5-pro"},
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/endpoints/openapi",
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global"
            "/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        ),
        (
            {"location": "europe-west4", "endpoint_url": "http://vertex.test:8103/"},
            "http://vertex.test:8103/v1/projects/p/locations/europe-west4/endpoints/openapi",
            "http://vertex.test:8103/v1/projects/p/locations/europe-west4"
            "/publishers/google/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse",
        ),
    ],
)
def test_upstream_urls(fields: dict[str, Any], openai_base: str, stream_url: str) -> None:
    backend = settings(**fields)
    assert (backend.openai_base_url, backend.stream_url) == (openai_base, stream_url)


def test_openai_model_gets_the_publisher_prefix() -> None:
    assert settings().openai_model == "google/gemini-2.0-flash-001"
    assert settings(model="meta/llama-3.3-70b-instruct-maas").openai_model == "meta/llama-3.3-70b-instruct-maas"
    assert settings().api == "openai"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"api": "native", "model": "meta/llama-3.3-70b-instruct-maas"}, "backends[0]"),
        ({"endpoint_url": "http://vertex.test:8103/v1/projects"}, "backends[0].endpoint_url"),
        ({"location": "US Central"}, "backends[0].location"),
        ({"api": "grpc"}, "backends[0].api"),
        ({"model": "google/"}, "backends[0]"),
        ({"credentials": "{}"}, "backends[0]"),
    ],
)
def test_invalid_settings_name_their_field(fields: dict[str, Any], field: str) -> None:
    backend = {"name": "v", "provider": "vertex", "project": "p", "location": "us-central1", "model": "m", **fields}
    with pytest.raises(ConfigError) as caught:
        parse_config({"backends": [backend], "models": {"vertex": ["v"]}})
    assert field in dict(caught.value.problems)


# ---------------------------------------------------------------- request translation


def test_conversation_with_system_tools_and_results() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "東京"}'}}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Use metric units."},
        {"role": "user", "content": "Weather in Tokyo and Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call, {**call, "id": "call_2"}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
        {"role": "assistant", "content": "21 °C and sunny."},
    ]
    body = gemini_request(ChatRequest.model_validate({"model": "vertex", "messages": messages}))
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use metric units."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Tokyo and Paris?"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "東京"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "東京"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}},
            ],
        },
        {"role": "model", "parts": [{"text": "21 °C and sunny."}]},
    ]
    assert "generationConfig" not in body


def test_multipart_content() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "gs://bucket/cat.jpeg"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
        {"type": "text", "text": ""},
    ]
    body = gemini_request(
        ChatRequest.model_validate({"model": "v", "messages": [{"role": "user", "content": content}]})
    )
    assert body["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/cat.jpeg"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
    ]


def test_turns_without_parts_are_left_out() -> None:
    messages = [{"role": "user", "content": ""}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    body = gemini_request(ChatRequest.model_validate({"model": "v", "messages": messages}))
    assert body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


@pytest.mark.parametrize(
    ("parameters", "config"),
    [
        ({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2, "topP": 0.9}),
        ({"max_tokens": 100}, {"maxOutputTokens": 100}),
        ({"max_completion_tokens": 50, "max_tokens": 100}, {"maxOutputTokens": 50}),
        ({"stop": "END"}, {"stopSequences": ["END"]}),
        ({"stop": ["a", "b"]}, {"stopSequences": ["a", "b"]}),
        ({"presence_penalty": 0.5, "frequency_penalty": -0.5}, {"presencePenalty": 0.5, "frequencyPenalty": -0.5}),
        ({"seed": 7}, {"seed": 7}),
        ({"response_format": {"type": "text"}}, {}),
        ({"response_format": {"type": "json_object"}}, {"responseMimeType": "application/json"}),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}},
            {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}},
        ),
        ({"reasoning_effort": "low"}, {"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}}),
        ({"reasoning_effort": "high"}, {"thinkingConfig": {"thinkingBudget": 24576, "includeThoughts": True}}),
        ({"user": "u-1", "parallel_tool_calls": False}, {}),
    ],
)
def test_generation_config(parameters: dict[str, Any], config: dict[str, Any]) -> None:
    assert gemini_request(chat(**parameters)).get("generationConfig", {}) == config


@pytest.mark.parametrize(
    ("tool_choice", "calling"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ({"type": "function", "function": {"name": "f"}}, {"mode": "ANY", "allowedFunctionNames": ["f"]}),
    ],
)
def test_tools_and_tool_choice(tool_choice: Any, calling: dict[str, Any]) -> None:
    parameters = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tools = [{"type": "function", "function": {"name": "f", "description": "Weather.", "parameters": parameters}}]
    body = gemini_request(chat(tools=tools, tool_choice=tool_choice))
    assert body["tools"] == [
        {"functionDeclarations": [{"name": "f", "description": "Weather.", "parametersJsonSchema": parameters}]}
    ]
    assert body["toolConfig"] == {"functionCallingConfig": calling}


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "tool", "tool_call_id": "nobody", "content": "x"}],
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "not json"}}]},
        ],
        [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-123"}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGRg=="}}]}],
    ],
)
def test_untranslatable_requests_are_rejected_before_sending(messages: list[dict[str, Any]]) -> None:
    with pytest.raises(Untranslatable):
        gemini_request(ChatRequest.model_validate({"model": "v", "messages": messages}))


@pytest.mark.parametrize(
    "parameters",
    [
        {"tool_choice": "sometimes"},
        {"tool_choice": {"type": "function"}},
        {"response_format": {"type": "xml"}},
    ],
)
def test_untranslatable_parameters_are_rejected(parameters: dict[str, Any]) -> None:
    with pytest.raises(Untranslatable):
        gemini_request(chat(**parameters))


# ---------------------------------------------------------------- response translation


@pytest.mark.parametrize(
    ("gemini", "called_tools", "expected"),
    [
        ("STOP", False, "stop"),
        ("STOP", True, "tool_calls"),
        ("MAX_TOKENS", False, "length"),
        ("MAX_TOKENS", True, "length"),
        ("SAFETY", False, "content_filter"),
        ("RECITATION", False, "content_filter"),
        ("BLOCKLIST", False, "content_filter"),
        ("PROHIBITED_CONTENT", False, "content_filter"),
        ("SPII", False, "content_filter"),
        ("OTHER", False, "stop"),
        ("FINISH_REASON_UNSPECIFIED", False, "stop"),
        ("MODEL_ARMOR", False, "content_filter"),
        ("IMAGE_SAFETY", False, "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", False, "content_filter"),
    ],
)
def test_finish_reason_mapping(gemini: str, called_tools: bool, expected: str) -> None:
    assert finish_reason(gemini, called_tools) == expected


@pytest.mark.parametrize(
    ("gemini", "code", "retryable"),
    [
        ("MALFORMED_FUNCTION_CALL", "malformed_function_call", True),
        ("UNEXPECTED_TOOL_CALL", "unexpected_tool_call", True),
        ("TOO_MANY_TOOL_CALLS", "too_many_tool_calls", True),
        ("MALFORMED_RESPONSE", "malformed_response", True),
        ("MISSING_THOUGHT_SIGNATURE", "missing_thought_signature", False),
        ("LANGUAGE", "unsupported_language", False),
    ],
)
def test_failed_finishes_raise_after_the_usage(gemini: str, code: str, retryable: bool) -> None:
    translator = ResponseTranslator()
    usage = {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6}
    assert translator.events(chunk({"text": "par"}, finish=gemini, usage=usage)) == [TextDelta("par")]
    ended = translator.end()
    assert next(ended) == Usage(5, 1)
    with pytest.raises(UpstreamError) as caught:
        next(ended)
    assert (caught.value.code, caught.value.retryable, caught.value.status) == (code, retryable, 502)


def chunk(*parts: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage or {"trafficType": "ON_DEMAND"}}


def test_chunks_become_deltas_with_finish_and_usage_held_to_the_end() -> None:
    translator = ResponseTranslator()
    events = translator.events(chunk({"text": "Let me think.", "thought": True}))
    events += translator.events(chunk({"text": "こんに"}, {"text": ""}))
    events += translator.events(chunk({"functionCall": {"name": "f", "args": {"q": "東京"}}}))
    last = chunk(
        {"functionCall": {"name": "g", "args": {}, "id": "given-id"}},
        finish="STOP",
        usage={"promptTokenCount": 7, "candidatesTokenCount": 3, "thoughtsTokenCount": 2, "totalTokenCount": 12},
    )
    events += translator.events(last)
    assert events[:2] == [ReasoningDelta("Let me think."), TextDelta("こんに")]
    first_call, second_call = events[2], events[3]
    assert isinstance(first_call, ToolCallDelta) and isinstance(second_call, ToolCallDelta)
    assert (first_call.index, first_call.name, first_call.arguments) == (0, "f", '{"q":"東京"}')
    assert first_call.id is not None and first_call.id.startswith("call_")
    assert (second_call.index, second_call.id, second_call.arguments) == (1, "given-id", "{}")
    assert list(translator.end()) == [Usage(7, 5, reasoning_tokens=2), Finish("tool_calls")]


def test_a_blocked_prompt_finishes_as_content_filter() -> None:
    translator = ResponseTranslator()
    assert (
        translator.events({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}) == []
    )
    assert list(translator.end()) == [Usage(4, 0), Finish("content_filter")]


def test_a_stream_without_finish_reason_is_truncated() -> None:
    translator = ResponseTranslator()
    translator.events(chunk({"text": "half an ans"}))
    with pytest.raises(UpstreamUnavailable) as caught:
        list(translator.end())
    assert caught.value.code == "upstream_truncated"


# ---------------------------------------------------------------- Google errors


def test_error_bodies_list_wrapped_or_not() -> None:
    document = {"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}}
    assert error_fields([document]) == error_fields(document) == document["error"]
    assert error_fields("garbage") == {}


def test_retry_info_detail() -> None:
    fields = {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}
    assert retry_delay(fields) == 12.5
    assert retry_delay({}) is None


@pytest.mark.parametrize(
    ("status", "headers", "kind", "code", "retry_after"),
    [
        (429, {"retry-after": "7"}, UpstreamRateLimited, "rate_limit_exceeded", 7.0),
        (429, {}, UpstreamRateLimited, "rate_limit_exceeded", 30.0),
        (403, {}, UpstreamUnavailable, "upstream_auth_failed", None),
        (404, {}, UpstreamUnavailable, "upstream_not_found", None),
        (500, {}, UpstreamUnavailable, "upstream_unavailable", None),
        (503, {"retry-after": "2"}, UpstreamUnavailable, "upstream_unavailable", 2.0),
        (400, {}, UpstreamRejected, "invalid_argument", None),
    ],
)
def test_status_errors(status: int, headers: dict[str, str], kind: type, code: str, retry_after: float | None) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]
    statuses = {429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT"}
    document = [{"error": {"code": status, "message": "m", "status": statuses.get(status, "X"), "details": details}}]
    error = status_error(status, document, headers, "v")
    assert (type(error), error.code, error.retry_after) == (kind, code, retry_after)


@pytest.mark.parametrize(
    ("status", "retryable"), [("INTERNAL", True), ("UNAVAILABLE", True), ("INVALID_ARGUMENT", False)]
)
def test_stream_errors(status: str, retryable: bool) -> None:
    error = stream_error({"code": 500, "message": "See https://example.com/x", "status": status})
    assert isinstance(error, UpstreamError)
    assert (error.code, error.retryable) == (status.lower(), retryable)
    assert error.message.endswith("See https://example.com/x")  # scrubbed later, once, by the relay


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("[1, 2]", "upstream_protocol_error"),
        ("not json", "upstream_protocol_error"),
        ('{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}', "resource_exhausted"),
    ],
)
def test_events_that_are_not_chunks_raise(data: str, code: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        chunk_document(data)
    assert caught.value.code == code


def test_openai_api_rate_limit_falls_back_to_retry_info() -> None:
    request = httpx2.Request("POST", "https://aiplatform.googleapis.com/v1/x")
    body = [
        {
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "9s"}],
            }
        }
    ]
    exc = openai.RateLimitError("rate limited", response=httpx2.Response(429, request=request), body=body)
    error = openai_relay_error(exc, "v")
    assert (type(error), error.retry_after) == (UpstreamRateLimited, 9.0)
