"""``POST /api/chat`` end to end: the typed-event dialect over real HTTP, relay to emulator."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY, azure_backend, host_relay
from tests.shared.test_http_api import assert_openai_error

URL = "/api/chat"
JAPANESE = "東京の天気は晴れ☀️、気温は18℃です。café 👨‍👩‍👧 🎉"

Event = tuple[str, dict[str, Any]]


def parse_events(raw: bytes) -> list[Event]:
    """Every ``event:``/``data:`` pair, in order; comments (heartbeats) skipped."""
    events = []
    for block in raw.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def stream(http: httpx.Client, body: dict[str, Any]) -> tuple[httpx.Response, bytes, list[Event]]:
    """POST ``body`` and read the whole stream."""
    with http.stream("POST", URL, json=body) as response:
        raw = response.read()
    assert response.status_code == 200, raw
    return response, raw, parse_events(raw)


def text_of(events: list[Event]) -> str:
    return "".join(data["content"] for name, data in events if name == "text_delta")


def names(events: list[Event]) -> list[str]:
    return [name for name, _ in events]


def test_a_prompt_streams_the_text_byte_exact(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    response, raw, events = stream(http, {"model": "azure", "prompt": inline_prompt(text=JAPANESE, chunks=9)})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-relay-backend"] == "azure-east"
    assert text_of(events) == JAPANESE
    assert "東京".encode() in raw and b"\\u" not in raw, "text travels as UTF-8, not JSON escapes"


def test_events_come_in_order_and_end_with_one_done(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    _, raw, events = stream(http, {"model": "azure", "prompt": inline_prompt(chunks=5)})
    assert names(events) == ["text_delta"] * 5 + ["usage", "done"]
    assert events[-1] == ("done", {"finish_reason": "stop"})
    assert raw.startswith(b"event: text_delta\ndata: {") and raw.endswith(b"\n\n")


def test_messages_and_sampling_reach_the_upstream(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    _, _, events = stream(http, {"model": "azure", "messages": messages, "max_tokens": 64, "temperature": 0.2})
    assert text_of(events) == DEFAULT_TEXT
    sent = azure.recorder.records[-1].body
    assert sent["messages"] == messages
    assert (sent["max_tokens"], sent["temperature"], sent["stream"]) == (64, 0.2, True)


def test_usage_is_reported_before_done(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    prompt = inline_prompt(prompt_tokens=11, completion_tokens=22)
    _, _, events = stream(http, {"model": "azure", "prompt": prompt})
    assert events[-2] == (
        "usage",
        {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33, "cached_tokens": 0, "reasoning_tokens": 0},
    )


def test_tool_calls_stream_as_typed_events(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    call = {"name": "get_weather", "arguments": {"city": "東京"}, "id": "call_1", "pieces": 3}
    _, _, events = stream(http, {"model": "azure", "prompt": inline_prompt(text="", tool_calls=[call])})
    calls = [data for name, data in events if name == "tool_call"]
    assert calls[0] == {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": ""}
    assert all(c["index"] == 0 and c["id"] is None and c["name"] is None for c in calls[1:])
    assert json.loads("".join(c["arguments_delta"] for c in calls)) == {"city": "東京"}
    assert events[-1] == ("done", {"finish_reason": "tool_calls"})


def test_a_mid_stream_failure_ends_with_one_error_event(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    _, _, events = stream(http, {"model": "azure", "prompt": inline_prompt(chunks=8, error_after=5)})
    assert "text_delta" in names(events)
    assert names(events).count("error") == 1 and "done" not in names(events)
    name, error = events[-1]
    assert name == "error"
    assert set(error) >= {"code", "message", "retryable"} and error["retryable"] is True


def test_a_dropped_upstream_ends_with_a_retryable_error(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    _, _, events = stream(http, {"model": "azure", "prompt": inline_prompt(chunks=8, close_after=5)})
    assert events[-1][0] == "error" and events[-1][1]["retryable"] is True
    assert "done" not in names(events)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "hi"}, "model"),
        ({"model": "azure", "prompt": ""}, "prompt"),
        ({"model": "azure", "prompt": 3}, "prompt"),
        ({"model": "azure", "prompt": "hi", "max_tokens": 0}, "max_tokens"),
        ({"model": "azure", "prompt": "hi", "temperature": "warm"}, "temperature"),
        ({"model": "azure", "prompt": "hi", "stream": False}, "stream"),
        ({"model": "azure", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ],
)
def test_bad_bodies_get_openai_style_400s(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    error = assert_openai_error(http.post(URL, json=body), 400)
    assert (error["code"], error["param"]) == ("invalid_request", param)


def test_prompt_and_messages_together_are_refused(http: httpx.Client) -> None:
    body = {"model": "azure", "prompt": "a", "messages": [{"role": "user", "content": "b"}]}
    assert "exactly one of messages or prompt" in str(assert_openai_error(http.post(URL, json=body), 400)["message"])


def test_malformed_json_is_400(http: httpx.Client) -> None:
    response = http.post(URL, content=b'{"model": "azure", "prompt": ', headers={"content-type": "application/json"})
    assert "not valid JSON" in str(assert_openai_error(response, 400)["message"])


def test_unknown_model_is_404(http: httpx.Client) -> None:
    error = assert_openai_error(http.post(URL, json={"model": "gpt-nope", "prompt": "hi"}), 404)
    assert error["code"] == "model_not_found"


def test_body_over_the_limit_is_413(http: httpx.Client) -> None:
    response = http.post(URL, json={"model": "azure", "prompt": "x" * (1024 * 1024 + 1)})
    assert assert_openai_error(response, 413)["code"] == "payload_too_large"


def test_upstream_rate_limit_before_the_stream_is_429_json(http: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    response = http.post(URL, json={"model": "azure", "prompt": inline_prompt(status=429, retry_after=3)})
    assert assert_openai_error(response, 429)["code"] == "rate_limit_exceeded"
    assert response.headers["retry-after"] == "3"


def test_the_get_method_is_not_a_chat(http: httpx.Client) -> None:
    assert http.get(URL).status_code == 405


BODIES = {
    URL: {"model": "azure", "prompt": "hi"},
    "/api/v1/chat/completions": {"model": "azure", "messages": [{"role": "user", "content": "hi"}]},
}


@pytest.mark.parametrize("url", sorted(BODIES))
def test_an_unexpected_failure_is_a_500_without_internals(
    azure: AzureOpenAIEmulator, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    async def broken_open(request: object, trace: object = None) -> None:
        raise RuntimeError("secret internals")

    config = {"backends": [azure_backend("east", azure.url)], "models": {"azure": ["east"]}}  # type: ignore[attr-defined]
    server = host_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY})
    monkeypatch.setattr(server.relay.relay, "open", broken_open)
    try:
        response = httpx.post(f"{server.url}{url}", json=BODIES[url], timeout=10, headers=AUTH_HEADERS)
    finally:
        server.stop()
    error = assert_openai_error(response, 500)
    assert error["code"] == "internal_error" and "secret internals" not in response.text


@pytest.mark.parametrize("alias", ["azure", "bedrock", "vertex", "vertex-native"])
def test_usage_follows_the_last_delta_on_every_provider(every_provider_relay_url: str, alias: str) -> None:
    prompt = inline_prompt(chunks=4, prompt_tokens=7, completion_tokens=9)
    with httpx.Client(base_url=every_provider_relay_url, timeout=30, headers=AUTH_HEADERS) as http:
        _, _, events = stream(http, {"model": alias, "prompt": prompt})
    assert names(events)[-2:] == ["usage", "done"], names(events)
    assert names(events).count("usage") == 1 and names(events).count("text_delta") >= 2
    assert events[-2][1] == {
        "prompt_tokens": 7,
        "completion_tokens": 9,
        "total_tokens": 16,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
