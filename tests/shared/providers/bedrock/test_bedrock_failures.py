"""Bedrock end to end, when it fails: errors before and during a stream, and failover.

How Bedrock's HTTP errors, in-stream exceptions, dropped connections and an
unreachable endpoint reach the client, and that a second backend takes over
while nothing has been sent yet.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import openai
import pytest

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS, BEDROCK_ENV, bedrock_backend, serve_relay
from tests.shared.providers.bedrock.bedrock_calls import post_stream, sse_frames, stream_chunks, user

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
    bedrock_http: httpx.Client, bedrock: BedrockEmulator, exception: str, code: str, retryable: bool
) -> None:
    frames = post_stream(bedrock_http, inline_prompt(text="abcdefgh", chunks=8, error_after=4, error_code=exception))
    assert "[DONE]" not in frames
    error = json.loads(frames[-1])["error"]
    assert (error["code"], error["retryable"]) == (code, retryable)
    assert error["message"].startswith("the upstream failed mid-stream")
    assert "".join(json.loads(frame)["choices"][0]["delta"].get("content", "") for frame in frames[:-1]) == "abc"


def test_in_stream_exception_raises_in_the_sdk(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    with pytest.raises(openai.APIError, match="mid-stream"):
        stream_chunks(bedrock_client, inline_prompt(chunks=10, error_after=4))


def test_close_before_the_first_event_fails_over_then_503(bedrock_http: httpx.Client, bedrock: BedrockEmulator) -> None:
    """Nothing reached the client yet, so the relay may still fail over; with no other backend, 503."""
    response = bedrock_http.post(
        "/api/v1/chat/completions",
        json={"model": "bedrock", "stream": True, "messages": user(inline_prompt(chunks=10, close_after=1))},
    )
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "upstream_disconnected" and error["retryable"] is True


@pytest.mark.parametrize("close_after", [5, 12])
def test_abrupt_upstream_close_is_never_silent(
    bedrock_http: httpx.Client, bedrock: BedrockEmulator, close_after: int
) -> None:
    frames = post_stream(bedrock_http, inline_prompt(chunks=10, close_after=close_after))
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
