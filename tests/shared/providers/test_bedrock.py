"""Bedrock end to end: the real openai SDK -> relay -> boto3-signed ConverseStream -> emulator."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import openai
import pytest
import uvicorn

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.conftest import AUTH_HEADERS, BEDROCK_ENV, BEDROCK_MODEL, RELAY_TEST_KEY, bedrock_backend, serve_relay
from tests.devtools.emulators.test_bedrock_emulator import _self_signed_certificate
from tests.polling import wait_for

ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def stream_chunks(client: openai.OpenAI, prompt: str, model: str = "bedrock", **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model=model, messages=user(prompt), stream=True, **kwargs))


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def sse_frames(response: httpx.Response) -> list[str]:
    """The data payloads of an SSE response, in order."""
    return [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]


@pytest.fixture
def http(bedrock_relay_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bedrock_relay_url, timeout=30, headers=AUTH_HEADERS) as session:
        yield session


def post_stream(http: httpx.Client, prompt: str, **body: Any) -> list[str]:
    response = http.post(
        "/api/v1/chat/completions", json={"model": "bedrock", "stream": True, "messages": user(prompt), **body}
    )
    assert response.status_code == 200, response.text
    return sse_frames(response)


# --- streaming -----------------------------------------------------------------------


def test_stream_reassembles_byte_for_byte(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    chunks = stream_chunks(bedrock_client, inline_prompt(chunks=17))
    assert text_of(chunks) == DEFAULT_TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    record = bedrock.recorder.records[-1].wait_finished()
    assert (record.auth, record.key, record.outcome) == ("sigv4", BEDROCK_MODEL, "completed")


@pytest.mark.parametrize("byte_split", [1, 5])
def test_multibyte_characters_cut_across_frames(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator, byte_split: int
) -> None:
    japanese = "日本語のテキスト🎌と絵文字👩‍💻がチャンク境界で分割されます。"
    chunks = stream_chunks(bedrock_client, inline_prompt(text=japanese, chunks=9, byte_split=byte_split))
    assert text_of(chunks) == japanese


def test_deltas_are_forwarded_as_they_arrive(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    stream = bedrock_client.chat.completions.create(
        model="bedrock", messages=user(inline_prompt(text="abcdef", chunks=6, delay_ms=250)), stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            frames_at_first_delta = bedrock.recorder.records[-1].frames_sent
            first_delta_at = time.monotonic()
            break
    rest = text_of(list(stream))
    finished_at = time.monotonic()
    assert rest == "bcdef"
    assert frames_at_first_delta < bedrock.recorder.records[-1].wait_finished().frames_sent - 4
    assert finished_at - first_delta_at > 0.75


def test_response_headers_are_sse(http: httpx.Client, bedrock: BedrockEmulator) -> None:
    response = http.post("/api/v1/chat/completions", json={"model": "bedrock", "stream": True, "messages": user("hi")})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["x-relay-backend"] == "bedrock-east"
    frames = sse_frames(response)
    assert frames[-1] == "[DONE]"
    assert json.loads(frames[-2])["choices"][0]["finish_reason"] == "stop"


def test_tool_call_deltas_have_stable_index_id_and_name(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator
) -> None:
    weather = json.dumps({"city": "東京", "unit": "celsius"}, ensure_ascii=False)
    calls = [
        {"name": "get_weather", "arguments": weather, "pieces": 4, "id": "tooluse_weather"},
        {"name": "get_time", "arguments": '{"tz": "Asia/Tokyo"}', "pieces": 2},
    ]
    chunks = stream_chunks(bedrock_client, inline_prompt(text="Let me check.", tool_calls=calls))
    deltas = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    first = [delta for delta in deltas if delta.index == 0]
    second = [delta for delta in deltas if delta.index == 1]
    assert (first[0].id, first[0].function.name) == ("tooluse_weather", "get_weather")
    assert second[0].id.startswith("tooluse_") and second[0].function.name == "get_time"
    assert all(delta.id is None and delta.function.name is None for delta in first[1:] + second[1:])
    assert "".join(delta.function.arguments or "" for delta in first) == weather
    assert json.loads("".join(delta.function.arguments or "" for delta in second)) == {"tz": "Asia/Tokyo"}
    assert len(first) == 5 and len(second) == 3  # the start, then each input piece as it arrived
    assert text_of(chunks) == "Let me check."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_reasoning_is_relayed_as_reasoning_content(http: httpx.Client, bedrock: BedrockEmulator) -> None:
    frames = post_stream(http, inline_prompt(reasoning="Think: 考える", text="Answer."))
    deltas = [json.loads(frame)["choices"][0]["delta"] for frame in frames[:-2]]
    assert "".join(delta.get("reasoning_content", "") for delta in deltas) == "Think: 考える"
    assert "".join(delta.get("content", "") for delta in deltas) == "Answer."


def test_usage_chunk_only_when_asked(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    prompt = inline_prompt(chunks=5, prompt_tokens=11, completion_tokens=5)
    with_usage = stream_chunks(bedrock_client, prompt, stream_options={"include_usage": True})
    without_usage = stream_chunks(bedrock_client, prompt)
    last = with_usage[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 5, 16)
    assert all(chunk.usage is None for chunk in without_usage)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_stop_reasons_become_finish_reasons(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator, stop_reason: str, finish_reason: str
) -> None:
    chunks = stream_chunks(bedrock_client, inline_prompt(text="x", finish_reason=stop_reason))
    assert chunks[-1].choices[0].finish_reason == finish_reason


def test_non_streaming_request_returns_one_completion(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    prompt = inline_prompt(chunks=7, prompt_tokens=3, completion_tokens=7, tool_calls=[{"name": "f"}])
    completion = bedrock_client.chat.completions.create(model="bedrock", messages=user(prompt))
    message = completion.choices[0].message
    assert message.content == DEFAULT_TEXT
    assert [(call.function.name, call.function.arguments) for call in message.tool_calls] == [("f", "{}")]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 10


# --- what goes upstream --------------------------------------------------------------


def test_request_is_translated_to_converse(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "tooluse_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "tooluse_1", "content": "18°C"},
        {"role": "user", "content": inline_prompt(text="Mild.")},
    ]
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    completion = bedrock_client.chat.completions.create(
        model="bedrock", messages=messages, tools=tools, tool_choice="auto", max_tokens=50, temperature=0.2, stop="END"
    )
    assert completion.choices[0].message.content == "Mild."
    body = bedrock.recorder.records[-1].body
    assert body["system"] == [{"text": "Be brief."}]
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}}
    ]
    assert body["messages"][2]["content"][0] == {
        "toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18°C"}]}
    }
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2, "stopSequences": ["END"]}
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}


def test_arn_model_id_is_sent_exactly_as_signed(bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator) -> None:
    config = {
        "backends": [bedrock_backend("arn", bedrock_emulator.url, model_id=ARN)],  # type: ignore[attr-defined]
        "models": {"arn": ["arn"]},
    }
    bedrock.book.set(ARN, {"text": "via the inference profile"})
    with serve_relay(config, BEDROCK_ENV) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "arn", "messages": user("hi")},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.json()["choices"][0]["message"]["content"] == "via the inference profile"
    assert bedrock.recorder.records[-1].path == f"/model/{quote(ARN, safe='')}/converse-stream"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("presence_penalty", 0.5),
        ("frequency_penalty", 0.5),
        ("seed", 7),
        ("response_format", {"type": "json_object"}),
        ("reasoning_effort", "low"),
        ("parallel_tool_calls", False),
    ],
)
def test_unsupported_parameters_are_400_before_any_upstream_call(
    http: httpx.Client, bedrock: BedrockEmulator, field: str, value: object
) -> None:
    body = {"model": "bedrock", "stream": True, "messages": user("hi"), field: value}
    response = http.post("/api/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", field)
    assert field in error["message"]
    assert bedrock.recorder.records == []


# --- failures ------------------------------------------------------------------------


def test_throttling_becomes_429_with_retry_after(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        stream_chunks(bedrock_client, inline_prompt(status=429, retry_after=7))
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["code"] == "rate_limit_exceeded" and caught.value.body["retryable"] is True


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "upstream_unavailable"),
        (503, "upstream_unavailable"),
        (408, "upstream_unavailable"),
        (403, "upstream_auth_failed"),
        (404, "upstream_not_found"),
    ],
)
def test_upstream_failures_become_503_when_no_backend_is_left(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        stream_chunks(bedrock_client, inline_prompt(status=status))
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == code
    assert BEDROCK_ENV["BEDROCK_TEST_SECRET"] not in caught.value.response.text


def test_validation_exception_is_400_with_bedrock_message(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator
) -> None:
    prompt = inline_prompt(status=400, error_message="Input is too long for requested model.")
    with pytest.raises(openai.BadRequestError) as caught:
        stream_chunks(bedrock_client, prompt)
    assert caught.value.body["message"] == "Input is too long for requested model."
    assert caught.value.body["code"] == "ValidationException"


@pytest.mark.parametrize(
    ("exception", "code", "retryable"),
    [
        ("throttlingException", "rate_limit_exceeded", True),
        ("modelStreamErrorException", "model_stream_error", True),
        ("internalServerException", "upstream_unavailable", True),
        ("validationException", "upstream_rejected", False),
    ],
)
def test_in_stream_exception_becomes_terminal_error_frame(
    http: httpx.Client, bedrock: BedrockEmulator, exception: str, code: str, retryable: bool
) -> None:
    frames = post_stream(http, inline_prompt(text="abcdefgh", chunks=8, error_after=4, error_code=exception))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert (error["code"], error["retryable"]) == (code, retryable)
    assert error["message"].startswith("the upstream failed mid-stream")
    assert "".join(json.loads(frame)["choices"][0]["delta"].get("content", "") for frame in frames[:-1]) == "abc"


def test_in_stream_exception_raises_in_the_sdk(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    with pytest.raises(openai.APIError, match="mid-stream"):
        stream_chunks(bedrock_client, inline_prompt(chunks=10, error_after=4))


def test_close_before_the_first_event_fails_over_then_503(http: httpx.Client, bedrock: BedrockEmulator) -> None:
    """Nothing reached the client yet, so the relay may still fail over; with no other backend, 503."""
    response = http.post(
        "/api/v1/chat/completions",
        json={"model": "bedrock", "stream": True, "messages": user(inline_prompt(chunks=10, close_after=1))},
    )
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "upstream_disconnected" and error["retryable"] is True


@pytest.mark.parametrize("close_after", [5, 12])
def test_abrupt_upstream_close_is_never_silent(http: httpx.Client, bedrock: BedrockEmulator, close_after: int) -> None:
    frames = post_stream(http, inline_prompt(chunks=10, close_after=close_after))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert error["retryable"] is True
    assert error["code"] in {"upstream_disconnected", "upstream_truncated"}


def test_unreachable_endpoint_is_503(free_port_url: str) -> None:
    config = {"backends": [bedrock_backend("gone", free_port_url)], "models": {"gone": ["gone"]}}
    with serve_relay(config, BEDROCK_ENV) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "gone", "messages": user("hi")},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"


@pytest.fixture
def free_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# --- credentials ---------------------------------------------------------------------


@pytest.fixture
def default_chain_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    """An environment where boto3's default chain finds nothing unless a test adds it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture(scope="module")
def tls_emulator_url(
    bedrock_emulator: BedrockEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The session's emulator behind TLS too: boto3 sends a Bedrock API key only over HTTPS."""
    cert, key = _self_signed_certificate(tmp_path_factory.mktemp("tls"))
    config = uvicorn.Config(
        bedrock_emulator,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, seconds=20)
    yield f"https://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", cert
    server.should_exit = True
    thread.join(timeout=10)


def test_bedrock_api_key_from_the_environment(
    tls_emulator_url: tuple[str, str], bedrock: BedrockEmulator, default_chain_only: pytest.MonkeyPatch
) -> None:
    url, ca_bundle = tls_emulator_url
    token = "ABSK-relay-test-token-0123456789"
    default_chain_only.setenv("AWS_BEARER_TOKEN_BEDROCK", token)
    backend = {"name": "key", "provider": "bedrock", "model_id": BEDROCK_MODEL, "region": "us-east-1"}
    config = {"backends": [{**backend, "endpoint_url": url}], "models": {"key": ["key"]}}
    with serve_relay(config, {"AWS_CA_BUNDLE": ca_bundle}) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "key", "messages": user(inline_prompt(text="signed with a key"))},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.json()["choices"][0]["message"]["content"] == "signed with a key"
    assert bedrock.recorder.records[-1].auth == "bearer"
    assert token not in json.dumps(bedrock.recorder.as_dict(), ensure_ascii=False)


def test_no_credentials_anywhere_is_503_auth_failed(
    bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator, default_chain_only: pytest.MonkeyPatch
) -> None:
    backend = {"name": "bare", "provider": "bedrock", "model_id": BEDROCK_MODEL, "region": "us-east-1"}
    config = {"backends": [{**backend, "endpoint_url": bedrock_emulator.url}], "models": {"bare": ["bare"]}}  # type: ignore[attr-defined]
    with serve_relay(config) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "bare", "messages": user("hi")},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_auth_failed"
    assert bedrock.recorder.records == []


# --- failover ------------------------------------------------------------------------


@pytest.fixture
def two_backend_url(bedrock_emulator: BedrockEmulator) -> Iterator[str]:
    """Alias ``pair``: model-a first (priority 1), then model-b (priority 2), both on the emulator."""
    url = bedrock_emulator.url  # type: ignore[attr-defined]
    config = {
        "backends": [
            bedrock_backend("a", url, model_id="model-a"),
            bedrock_backend("b", url, model_id="model-b", priority=2),
        ],
        "models": {"pair": ["a", "b"]},
    }
    with serve_relay(config, BEDROCK_ENV) as relay:
        yield relay


def test_failover_to_the_next_backend_is_invisible(two_backend_url: str, bedrock: BedrockEmulator) -> None:
    bedrock.book.set("model-a", {"status": 503})
    bedrock.book.set("model-b", {"text": "from b"})
    body = {"model": "pair", "stream": True, "messages": user("hi")}
    response = httpx.post(f"{two_backend_url}/api/v1/chat/completions", json=body, timeout=30, headers=AUTH_HEADERS)
    assert response.headers["x-relay-backend"] == "b" and response.headers["x-relay-attempts"] == "2"
    deltas = [json.loads(frame)["choices"][0]["delta"] for frame in sse_frames(response)[:-2]]
    assert "".join(delta.get("content", "") for delta in deltas) == "from b"


def test_5xx_everywhere_is_503_after_failover(two_backend_url: str, bedrock: BedrockEmulator) -> None:
    bedrock.book.set("*", {"status": 500})
    body = {"model": "pair", "messages": user("hi")}
    response = httpx.post(f"{two_backend_url}/api/v1/chat/completions", json=body, timeout=30, headers=AUTH_HEADERS)
    assert response.status_code == 503
    assert [record.key for record in bedrock.recorder.records] == ["model-a", "model-b"]


# --- resources -----------------------------------------------------------------------


def test_client_disconnect_closes_the_upstream_within_a_second(
    bedrock_relay_url: str, bedrock: BedrockEmulator
) -> None:
    body = {"model": "bedrock", "stream": True, "messages": user(inline_prompt(chunks=200, delay_ms=50))}
    with (
        httpx.Client(base_url=bedrock_relay_url, timeout=30, headers=AUTH_HEADERS) as session,
        session.stream("POST", "/api/v1/chat/completions", json=body) as response,
    ):
        assert next(line for line in response.iter_lines() if line.startswith("data: "))
        left_at = time.monotonic()
    record = bedrock.recorder.records[-1]
    assert wait_for(lambda: record.client_disconnected, seconds=2)
    assert record.disconnected_at is not None and record.disconnected_at - left_at < 1.0
    assert record.frames_sent < 100


def test_client_gone_before_the_first_byte_still_closes_the_upstream(
    bedrock_relay_url: str, bedrock: BedrockEmulator
) -> None:
    prompt = inline_prompt(chunks=100, first_delay_ms=200, delay_ms=50)
    body = json.dumps({"model": "bedrock", "stream": True, "messages": user(prompt)}).encode()
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: relay\r\n"
        f"Authorization: Bearer {RELAY_TEST_KEY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    port = int(bedrock_relay_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(head.encode() + body)
        assert wait_for(lambda: bool(bedrock.recorder.records), seconds=5)
    left_at = time.monotonic()
    record = bedrock.recorder.records[-1]
    assert wait_for(lambda: record.client_disconnected, seconds=2)
    assert record.disconnected_at is not None and record.disconnected_at - left_at < 1.0
    assert record.frames_sent <= 1


def test_streams_hold_no_thread_each(bedrock_relay_url: str, bedrock: BedrockEmulator) -> None:
    """Sixty open streams must not mean sixty threads.

    Relay and client share this process; each event loop's default executor
    (at most six threads here) may start for signing and DNS, nothing more.
    """
    threads_before = threading.active_count()
    peak = threads_before

    async def one(client: openai.AsyncOpenAI) -> str:
        nonlocal peak
        stream = await client.chat.completions.create(
            model="bedrock", messages=user(inline_prompt(text="abcdefghij", chunks=10, delay_ms=50)), stream=True
        )
        text = ""
        async for chunk in stream:
            peak = max(peak, threading.active_count())
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        return text

    async def main() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=f"{bedrock_relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0
        ) as client:
            return await asyncio.gather(*(one(client) for _ in range(60)))

    assert asyncio.run(main()) == ["abcdefghij"] * 60
    assert peak - threads_before <= 12
