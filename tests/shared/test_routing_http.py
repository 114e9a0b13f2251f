"""Routing over real HTTP: the openai SDK -> relay -> several Azure deployments on the emulator.

Each deployment is a backend with its own priority; per-deployment scenarios
script which ones fail. The alias is a pool, so adding a Bedrock or Vertex
backend to it is a configuration change, not a code change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY, azure_backend, host_relay

URL = "/api/v1/chat/completions"
BACKENDS = ("primary", "secondary", "tertiary")


@pytest.fixture
def pool(azure: AzureOpenAIEmulator) -> Iterator[httpx.Client]:
    """A fresh relay whose alias ``azure`` is three deployments, priorities 1, 2 and 3."""
    config = {
        "backends": [
            azure_backend(name, azure.url, priority=priority)  # type: ignore[attr-defined]
            for priority, name in enumerate(BACKENDS, start=1)
        ],
        "models": {"azure": list(BACKENDS)},
    }
    server = host_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY})
    with httpx.Client(base_url=server.url, timeout=30, headers=AUTH_HEADERS) as http:
        yield http
    server.stop()


def ask(http: httpx.Client, prompt: str = "hi", stream: bool = True) -> httpx.Response:
    return http.post(URL, json={"model": "azure", "stream": stream, "messages": [{"role": "user", "content": prompt}]})


def data_frames(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]


def upstream_keys(azure: AzureOpenAIEmulator) -> list[str]:
    return [record.key for record in azure.recorder.records]


def script(azure: AzureOpenAIEmulator, **scenarios: dict[str, Any]) -> None:
    for deployment, scenario in scenarios.items():
        azure.book.set(deployment, scenario)


def test_a_rate_limited_primary_fails_over_and_then_cools_down(pool: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    script(azure, primary={"status": 429, "retry_after": 30})
    first = ask(pool)
    assert first.status_code == 200
    assert (first.headers["x-relay-backend"], first.headers["x-relay-attempts"]) == ("secondary", "2")
    assert data_frames(first)[-1] == "[DONE]"
    second = ask(pool)
    assert (second.headers["x-relay-backend"], second.headers["x-relay-attempts"]) == ("secondary", "1")
    assert upstream_keys(azure) == ["primary", "secondary", "secondary"]


def test_priority_groups_are_used_in_order(pool: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    script(azure, primary={"status": 503}, secondary={"status": 429, "retry_after": 5})
    response = ask(pool, stream=False)
    assert response.status_code == 200
    assert response.headers["x-relay-backend"] == "tertiary"
    assert response.json()["choices"][0]["message"]["content"]
    assert upstream_keys(azure) == ["primary", "secondary", "tertiary"]


def test_a_fully_rate_limited_pool_is_a_429_with_the_earliest_recovery(
    pool: httpx.Client, azure: AzureOpenAIEmulator
) -> None:
    script(
        azure,
        primary={"status": 429, "retry_after": 30},
        secondary={"status": 429, "retry_after": 7},
        tertiary={"status": 429, "retry_after": 12},
    )
    response = ask(pool)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-relay-attempts"] == "3"
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["retryable"] is True
    again = ask(pool)
    assert again.status_code == 429 and int(again.headers["retry-after"]) <= 7
    assert again.headers["x-relay-attempts"] == "0"
    assert len(azure.recorder.records) == 3  # the second request reached no upstream


def test_a_pool_without_a_working_backend_is_a_503(pool: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    script(azure, primary={"status": 500}, secondary={"status": 401}, tertiary={"status": 429, "retry_after": 9})
    response = ask(pool)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "9"
    assert response.json()["error"]["code"] == "upstream_auth_failed"  # the last failure that was not a 429
    assert AZURE_TEST_KEY not in response.text


def test_a_stream_that_dies_before_its_first_token_fails_over_silently(
    pool: httpx.Client, azure: AzureOpenAIEmulator
) -> None:
    script(azure, primary={"close_after": 0})
    response = ask(pool)
    assert response.headers["x-relay-backend"] == "secondary"
    frames = data_frames(response)
    assert frames[-1] == "[DONE]" and not any('"error"' in frame for frame in frames)
    assert upstream_keys(azure) == ["primary", "secondary"]


@pytest.mark.parametrize(
    ("scenario", "codes"),
    [
        ({"chunks": 10, "error_after": 4}, None),
        ({"chunks": 10, "close_after": 4}, {"upstream_disconnected", "upstream_truncated"}),
    ],
)
def test_after_the_first_byte_a_failure_ends_the_stream_without_switching(
    pool: httpx.Client, azure: AzureOpenAIEmulator, scenario: dict[str, Any], codes: set[str] | None
) -> None:
    script(azure, primary=scenario)
    response = ask(pool)
    frames = data_frames(response)
    assert response.headers["x-relay-backend"] == "primary"
    assert "[DONE]" not in frames
    assert any(json.loads(frame).get("choices") for frame in frames[:-1])  # some text was sent first
    errors = [json.loads(frame)["error"] for frame in frames if '"error"' in frame]
    assert len(errors) == 1 and frames[-1].startswith('{"error"')
    assert errors[0]["retryable"] is True
    assert codes is None or errors[0]["code"] in codes
    assert upstream_keys(azure) == ["primary"]


def test_health_shows_cooling_down_until_a_time(pool: httpx.Client, azure: AzureOpenAIEmulator) -> None:
    script(azure, primary={"status": 429, "retry_after": 60})
    ask(pool)
    backends = {entry["name"]: entry for entry in pool.get("/api/health").json()["backends"]}
    assert backends["primary"]["state"] == "cooling_down" and backends["primary"]["until"]
    assert backends["secondary"]["state"] == "healthy" and "until" not in backends["secondary"]
    assert backends["tertiary"]["state"] == "healthy"


def test_one_log_line_per_request_without_prompt_text(
    pool: httpx.Client, azure: AzureOpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    script(
        azure,
        primary={"status": 429, "retry_after": 30},
        secondary={"chunks": 4, "prompt_tokens": 12, "completion_tokens": 4},
    )
    with caplog.at_level(logging.INFO, logger="relay.requests"):
        assert ask(pool, "my-secret-prompt").status_code == 200
        ask(pool, "x", stream="yes")  # type: ignore[arg-type]
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "relay.requests"]
    served, invalid = lines
    assert served["alias"] == "azure" and served["backend"] == "secondary" and served["attempts"] == 2
    assert (served["tokens_in"], served["tokens_out"], served["outcome"], served["stream"]) == (12, 4, "ok", True)
    assert 0 <= served["ttft_ms"] <= served["duration_ms"]
    assert invalid["outcome"] == "invalid_request" and invalid["attempts"] == 0
    assert "my-secret-prompt" not in caplog.text and AZURE_TEST_KEY not in caplog.text
