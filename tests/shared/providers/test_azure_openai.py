"""Azure OpenAI end to end: the real openai SDK -> relay -> real SDK -> emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def stream_text(client: openai.OpenAI, prompt: str, **kwargs: object) -> tuple[str, list[object]]:
    chunks = list(client.chat.completions.create(model="azure", messages=user(prompt), stream=True, **kwargs))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    return text, chunks


@pytest.fixture
def fresh_client(fresh_relay_url: str) -> Iterator[openai.OpenAI]:
    """The SDK against a relay of its own, for tests that make the upstream fail."""
    with openai.OpenAI(base_url=f"{fresh_relay_url}/api/v1", api_key="relay-client-key", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def fresh_http(fresh_relay_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh_relay_url, timeout=30, headers=AUTH_HEADERS) as session:
        yield session


def sse_frames(response: httpx.Response) -> list[str]:
    """The data payloads of an SSE response, in order."""
    return [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]


def test_stream_reassembles_byte_for_byte(client: openai.OpenAI, azure: object) -> None:
    text, chunks = stream_text(client, inline_prompt(chunks=17))
    assert text == DEFAULT_TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_multibyte_characters_cut_across_tcp_writes(client: openai.OpenAI, azure: object) -> None:
    japanese = "日本語のテキスト🎌と絵文字👩‍💻がチャンク境界で分割されます。"
    text, _ = stream_text(client, inline_prompt(text=japanese, chunks=9, byte_split=1))
    assert text == japanese


def test_deltas_are_forwarded_as_they_arrive(client: openai.OpenAI, azure) -> None:
    stream = client.chat.completions.create(
        model="azure", messages=user(inline_prompt(text="abcdef", chunks=6, delay_ms=250)), stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            seen_at_first_delta = azure.recorder.records[-1].frames_sent
            first_delta_at = time.monotonic()
            break
    rest = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    finished_at = time.monotonic()
    total_frames = azure.recorder.records[-1].wait_finished().frames_sent
    assert rest == "bcdef"
    assert seen_at_first_delta < total_frames - 4
    assert finished_at - first_delta_at > 0.75


def test_response_headers_are_sse_without_buffering(http: httpx.Client, azure: object) -> None:
    body = {"model": "azure", "stream": True, "messages": user("hi")}
    response = http.post("/api/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-relay-backend"] == "azure-east"
    frames = sse_frames(response)
    assert frames[-1] == "[DONE]"
    assert json.loads(frames[-2])["choices"][0]["finish_reason"] == "stop"


def test_tool_call_deltas_pass_through(client: openai.OpenAI, azure: object) -> None:
    arguments = json.dumps({"city": "東京", "unit": "celsius"}, ensure_ascii=False)
    prompt = inline_prompt(text="", tool_calls=[{"name": "get_weather", "arguments": arguments, "pieces": 4}])
    _, chunks = stream_text(client, prompt)
    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert calls[0].id and calls[0].function.name == "get_weather"
    assert all(call.index == 0 for call in calls)
    assert "".join(call.function.arguments or "" for call in calls) == arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_usage_chunk_only_when_asked(client: openai.OpenAI, azure: object) -> None:
    prompt = inline_prompt(chunks=5, prompt_tokens=11, completion_tokens=5)
    _, with_usage = stream_text(client, prompt, stream_options={"include_usage": True})
    _, without_usage = stream_text(client, prompt)
    last = with_usage[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 5, 16)
    assert all(chunk.usage is None for chunk in without_usage)


def test_content_filter_finish_reason(client: openai.OpenAI, azure: object) -> None:
    _, chunks = stream_text(client, inline_prompt(content_filter=True))
    assert chunks[-1].choices[0].finish_reason == "content_filter"


def test_non_streaming_request_returns_one_completion(client: openai.OpenAI, azure: object) -> None:
    completion = client.chat.completions.create(
        model="azure", messages=user(inline_prompt(chunks=7, prompt_tokens=3, completion_tokens=7))
    )
    assert completion.object == "chat.completion"
    assert completion.model == "azure"
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 10


def test_non_streaming_tool_calls_are_assembled(client: openai.OpenAI, azure: object) -> None:
    prompt = inline_prompt(text="", tool_calls=[{"name": "a", "arguments": '{"x": 1}'}, {"name": "b"}])
    completion = client.chat.completions.create(model="azure", messages=user(prompt))
    calls = completion.choices[0].message.tool_calls
    assert [(call.function.name, call.function.arguments) for call in calls] == [("a", '{"x": 1}'), ("b", "{}")]


def test_upstream_429_becomes_429_with_retry_after(fresh_client: openai.OpenAI, azure: object) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        stream_text(fresh_client, inline_prompt(status=429, retry_after=7))
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.body["code"] == "rate_limit_exceeded" and error.body["retryable"] is True


def test_upstream_retry_after_ms_is_preferred(fresh_client: openai.OpenAI, azure: object) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        stream_text(fresh_client, inline_prompt(status=429, retry_after=30, retry_after_ms=2500))
    assert caught.value.body["retry_after"] == 2.5
    assert caught.value.response.headers["retry-after"] == "3"  # rounded up, never sooner than the body says


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "upstream_unavailable"),
        (503, "upstream_unavailable"),
        (401, "upstream_auth_failed"),
        (404, "upstream_not_found"),
    ],
)
def test_upstream_failures_become_503_when_no_backend_is_left(
    fresh_client: openai.OpenAI, azure: object, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        stream_text(fresh_client, inline_prompt(status=status))
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == code
    assert AZURE_TEST_KEY not in caught.value.response.text


def test_upstream_400_is_relayed_as_400(fresh_client: openai.OpenAI, azure: object) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        stream_text(fresh_client, inline_prompt(status=400, error_message="max_tokens is too large: 999999."))
    assert "max_tokens is too large" in caught.value.message
    assert "http" not in caught.value.message


def test_mid_stream_error_becomes_terminal_error_frame(fresh_http: httpx.Client, azure: object) -> None:
    body = {"model": "azure", "stream": True, "messages": user(inline_prompt(chunks=10, error_after=4))}
    frames = sse_frames(fresh_http.post("/api/v1/chat/completions", json=body))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert error["code"] and error["message"].startswith("the upstream failed mid-stream")
    assert sum(1 for frame in frames if '"error"' in frame) == 1


def test_mid_stream_error_raises_in_the_sdk(fresh_client: openai.OpenAI, azure: object) -> None:
    with pytest.raises(openai.APIError, match="mid-stream"):
        stream_text(fresh_client, inline_prompt(chunks=10, error_after=4))


def test_abrupt_upstream_close_is_never_silent(fresh_http: httpx.Client, azure: object) -> None:
    body = {"model": "azure", "stream": True, "messages": user(inline_prompt(chunks=10, close_after=5))}
    frames = sse_frames(fresh_http.post("/api/v1/chat/completions", json=body))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert error["retryable"] is True
    assert error["code"] in {"upstream_disconnected", "upstream_truncated"}


def test_unknown_model_is_404_naming_the_parameter(http: httpx.Client) -> None:
    response = http.post("/api/v1/chat/completions", json={"model": "gpt-5", "messages": user("hi")})
    assert response.status_code == 404
    assert response.json()["error"]["param"] == "model"
    assert response.json()["error"]["code"] == "model_not_found"


def test_models_lists_the_aliases(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["azure"]


def test_health_lists_backends_without_secrets(http: httpx.Client) -> None:
    response = http.get("/api/health")
    assert response.status_code == 200
    assert response.json()["backends"][0]["name"] == "azure-east"
    assert AZURE_TEST_KEY not in response.text

