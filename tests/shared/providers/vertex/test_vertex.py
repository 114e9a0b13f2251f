"""Vertex AI end to end, through both upstream APIs.

The real openai SDK -> relay -> (openai SDK | httpx2 + SSE decoder) -> the
Vertex emulator, with real google-auth service-account tokens from the
emulator's token endpoint. Every test runs once per ``api``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.emulators.vertex import VertexEmulator
from tests.builders import RELAY_TEST_KEY, serve_relay, vertex_backend, vertex_key_file
from tests.polling import wait_for

PRIMARY_MODEL = "gemini-primary-001"
SECONDARY_MODEL = "gemini-2.0-flash-001"
JAPANESE = "日本語のテキスト🎌と絵文字👩‍💻がチャンク境界で分割されます。"


@pytest.fixture(scope="module", params=["openai", "native"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def relay_url(api: str, vertex_emulator: VertexEmulator) -> Iterator[str]:
    """A relay whose alias ``vertex`` is two Vertex backends on the emulator, tried in order.

    A new relay per test: the router remembers cooldowns and open circuits.
    """
    url = vertex_emulator.url  # type: ignore[attr-defined]
    config = {
        "backends": [
            vertex_backend("vertex-primary", url, api, model=PRIMARY_MODEL),
            vertex_backend("vertex-secondary", url, api, model=SECONDARY_MODEL, priority=2),
        ],
        "models": {"vertex": ["vertex-primary", "vertex-secondary"]},
    }
    with serve_relay(config, vertex_key_file(url)) as served:
        yield served


def scenario_key(api: str, model: str) -> str:
    """What the emulator keys scenarios by: the OpenAI ``model`` or the native model name."""
    return f"google/{model}" if api == "openai" else model


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def stream_chunks(client: openai.OpenAI, prompt: str, **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model="vertex", messages=user(prompt), stream=True, **kwargs))


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def sse_frames(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]


# ---------------------------------------------------------------- streaming


def test_stream_reassembles_byte_for_byte(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    chunks = stream_chunks(client, inline_prompt(chunks=17))
    assert text_of(chunks) == DEFAULT_TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert vertex.recorder.records[-1].key.endswith(PRIMARY_MODEL)


def test_multibyte_characters_cut_across_bytes(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    assert text_of(stream_chunks(client, inline_prompt(text=JAPANESE, chunks=9, byte_split=1))) == JAPANESE


def test_response_is_sse_and_names_the_backend(http: httpx.Client, vertex: VertexEmulator) -> None:
    response = http.post("/api/v1/chat/completions", json={"model": "vertex", "stream": True, "messages": user("hi")})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert (response.headers["x-relay-backend"], response.headers["x-relay-attempts"]) == ("vertex-primary", "1")
    assert sse_frames(response)[-1] == "[DONE]"


def test_tool_calls_arrive_whole_with_ids(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    weather = {"city": "東京", "unit": "celsius"}
    calls = [{"name": "get_weather", "arguments": json.dumps(weather)}, {"name": "get_time", "arguments": "{}"}]
    chunks = stream_chunks(client, inline_prompt(text="", tool_calls=calls))
    deltas = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert [(d.index, d.function.name) for d in deltas] == [(0, "get_weather"), (1, "get_time")]
    assert all(d.id and d.id.startswith("call_") for d in deltas)
    assert len({d.id for d in deltas}) == 2
    assert json.loads(deltas[0].function.arguments) == weather
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_thoughts_become_reasoning_content(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    chunks = stream_chunks(client, inline_prompt(reasoning="Think first, then answer.", text="42"))
    reasoning = "".join(getattr(chunk.choices[0].delta, "reasoning_content", None) or "" for chunk in chunks)
    assert reasoning == "Think first, then answer."
    assert text_of(chunks) == "42"


def test_usage_chunk_when_asked(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    prompt = inline_prompt(chunks=5, prompt_tokens=11, completion_tokens=5)
    last = stream_chunks(client, prompt, stream_options={"include_usage": True})[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 5, 16)


@pytest.mark.parametrize(
    ("gemini", "openai_reason"),
    [("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter")],
)
def test_finish_reasons(client: openai.OpenAI, vertex: VertexEmulator, gemini: str, openai_reason: str) -> None:
    assert stream_chunks(client, inline_prompt(finish_reason=gemini))[-1].choices[0].finish_reason == openai_reason


@pytest.mark.parametrize("gemini", ["MODEL_ARMOR", "IMAGE_SAFETY", "BLOCKLIST"])
def test_withheld_output_finishes_content_filter(client: openai.OpenAI, vertex: VertexEmulator, gemini: str) -> None:
    assert stream_chunks(client, inline_prompt(finish_reason=gemini))[-1].choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize(
    ("gemini", "code", "retryable"),
    [("MALFORMED_FUNCTION_CALL", "malformed_function_call", True), ("LANGUAGE", "unsupported_language", False)],
)
def test_failed_finish_is_one_terminal_error(
    http: httpx.Client, vertex: VertexEmulator, gemini: str, code: str, retryable: bool
) -> None:
    """Reported as ``stop``, an unusable answer would look complete; the client gets an error it can act on."""
    body = {
        "model": "vertex",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": user(inline_prompt(text="partial", finish_reason=gemini, prompt_tokens=3, completion_tokens=2)),
    }
    frames = sse_frames(http.post("/api/v1/chat/completions", json=body))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert (error["code"], error["retryable"]) == (code, retryable)
    assert sum(1 for frame in frames if '"error"' in frame) == 1


def test_failed_finish_raises_in_the_sdk(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    with pytest.raises(openai.APIError, match="function call"):
        stream_chunks(client, inline_prompt(text="partial", finish_reason="MALFORMED_FUNCTION_CALL"))


def test_streamed_tool_calls_finish_tool_calls_with_usage(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    prompt = inline_prompt(text="Let me check.", tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}])
    chunks = stream_chunks(client, prompt, stream_options={"include_usage": True})
    finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert finishes == ["tool_calls"]


def test_content_filter_stops_the_answer(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    assert stream_chunks(client, inline_prompt(content_filter=True))[-1].choices[0].finish_reason == "content_filter"


def test_non_streaming_request_returns_one_completion(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    prompt = inline_prompt(chunks=7, prompt_tokens=3, completion_tokens=7)
    completion = client.chat.completions.create(model="vertex", messages=user(prompt))
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.usage is not None and completion.usage.total_tokens == 10


def test_request_reaches_vertex_translated(client: openai.OpenAI, vertex: VertexEmulator, api: str) -> None:
    messages = [{"role": "system", "content": "Be brief."}, *user("hi")]
    list(client.chat.completions.create(model="vertex", messages=messages, stream=True, max_tokens=64))
    record = vertex.recorder.records[-1]
    assert record.auth.startswith("Bearer ya29.emu-")
    if api == "openai":
        assert record.path == "/v1/projects/demo-project/locations/us-central1/endpoints/openapi/chat/completions"
        assert (record.body["model"], record.body["max_tokens"]) == (f"google/{PRIMARY_MODEL}", 64)
    else:
        assert record.path.endswith(f"/publishers/google/models/{PRIMARY_MODEL}:streamGenerateContent")
        assert record.body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert record.body["generationConfig"] == {"maxOutputTokens": 64}


def test_client_going_away_closes_the_upstream(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    stream = client.chat.completions.create(
        model="vertex", messages=user(inline_prompt(chunks=50, delay_ms=100)), stream=True
    )
    next(iter(stream))
    stream.close()
    assert wait_for(lambda: vertex.recorder.records[-1].client_disconnected)


# ---------------------------------------------------------------- errors before the stream


def test_upstream_429_becomes_429_with_retry_after(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        stream_chunks(client, inline_prompt(status=429, retry_after=7))
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    assert len(vertex.recorder.records) == 2  # both backends were tried


@pytest.mark.parametrize("status", [500, 503])
def test_upstream_5xx_becomes_503_after_failover(client: openai.OpenAI, vertex: VertexEmulator, status: int) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        stream_chunks(client, inline_prompt(status=status))
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "upstream_unavailable"
    assert [record.status for record in vertex.recorder.records] == [status, status]


def test_failover_to_the_next_backend_is_invisible(http: httpx.Client, vertex: VertexEmulator, api: str) -> None:
    vertex.book.set(scenario_key(api, PRIMARY_MODEL), {"status": 503})
    response = http.post("/api/v1/chat/completions", json={"model": "vertex", "stream": True, "messages": user("hi")})
    assert response.status_code == 200
    assert (response.headers["x-relay-backend"], response.headers["x-relay-attempts"]) == ("vertex-secondary", "2")
    assert sse_frames(response)[-1] == "[DONE]"


def test_upstream_400_is_relayed_as_400(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    message = "Unable to submit request: see https://cloud.google.com/vertex-ai/docs for max_output_tokens."
    with pytest.raises(openai.BadRequestError) as caught:
        stream_chunks(client, inline_prompt(status=400, error_message=message))
    assert caught.value.body["code"] == "invalid_argument"
    assert "max_output_tokens" in caught.value.message
    assert "https://" not in caught.value.message
    assert len(vertex.recorder.records) == 1  # the request itself is bad: no failover


@pytest.mark.parametrize(("status", "code"), [(403, "upstream_auth_failed"), (404, "upstream_not_found")])
def test_permission_and_not_found_are_the_relays_misconfiguration(
    client: openai.OpenAI, vertex: VertexEmulator, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        stream_chunks(client, inline_prompt(status=status))
    assert (caught.value.status_code, caught.value.body["code"]) == (503, code)
    assert "ya29" not in caught.value.response.text


# ---------------------------------------------------------------- errors after the stream started


def test_mid_stream_error_becomes_one_terminal_error_frame(http: httpx.Client, vertex: VertexEmulator) -> None:
    body = {"model": "vertex", "stream": True, "messages": user(inline_prompt(chunks=10, error_after=4))}
    frames = sse_frames(http.post("/api/v1/chat/completions", json=body))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert error["message"].startswith("the upstream failed mid-stream")
    assert (error["code"], error["retryable"]) == ("internal", True)
    assert sum(1 for frame in frames if '"error"' in frame) == 1


def test_mid_stream_rate_limit_is_retryable(http: httpx.Client, vertex: VertexEmulator) -> None:
    scenario = inline_prompt(chunks=10, error_after=2, error_code="RESOURCE_EXHAUSTED")
    frames = sse_frames(
        http.post("/api/v1/chat/completions", json={"model": "vertex", "stream": True, "messages": user(scenario)})
    )
    error = json.loads(frames[-1])["error"]
    assert (error["code"], error["retryable"]) == ("resource_exhausted", True)


def test_mid_stream_error_raises_in_the_sdk(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    with pytest.raises(openai.APIError, match="mid-stream"):
        stream_chunks(client, inline_prompt(chunks=10, error_after=4))


def test_abrupt_upstream_close_is_never_silent(http: httpx.Client, vertex: VertexEmulator) -> None:
    body = {"model": "vertex", "stream": True, "messages": user(inline_prompt(chunks=10, close_after=5))}
    frames = sse_frames(http.post("/api/v1/chat/completions", json=body))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert error["retryable"] is True
    assert error["code"] in {"upstream_disconnected", "upstream_truncated"}


# ---------------------------------------------------------------- tokens


def test_expired_token_is_refreshed_and_the_request_retried(client: openai.OpenAI, vertex: VertexEmulator) -> None:
    stream_chunks(client, "warm the token cache")
    before = vertex.recorder.token_requests
    vertex.recorder.records.clear()
    vertex.expire_tokens()
    assert text_of(stream_chunks(client, inline_prompt(chunks=4))) == DEFAULT_TEXT
    assert vertex.recorder.token_requests - before == 1
    assert [record.status for record in vertex.recorder.records] == [401, 200]
    assert vertex.recorder.records[0].auth != vertex.recorder.records[1].auth


def test_an_unreachable_vertex_endpoint_is_a_503(vertex: VertexEmulator, api: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    url = vertex.url  # type: ignore[attr-defined]
    config = {"backends": [vertex_backend("nowhere", closed, api)], "models": {"vertex": ["nowhere"]}}
    with (
        serve_relay(config, vertex_key_file(url)) as relay,
        openai.OpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY) as sdk,
        pytest.raises(openai.APIStatusError) as caught,
    ):
        stream_chunks(sdk, "hi")
    assert (caught.value.status_code, caught.value.body["code"]) == (503, "upstream_unavailable")
    assert closed not in caught.value.response.text
