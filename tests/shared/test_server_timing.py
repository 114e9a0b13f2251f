"""``Server-Timing``: the relay's own time, failed attempts and the upstream's time to headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from shared import openapi
from shared.server_timing import OpenTiming
from tests.builders import (
    AUTH_HEADERS,
    AZURE_TEST_KEY,
    BEDROCK_ENV,
    BEDROCK_MODEL,
    azure_backend,
    bedrock_backend,
    serve_relay,
)

ALIASES = ("azure", "bedrock", "vertex", "vertex-native")
METRIC = re.compile(r'^(?P<name>[a-z]+);dur=(?P<dur>\d+\.\d)(?:;desc="(?P<desc>[^"]*)")?$')
HEADERS_DELAY_MS = 300


class FakeClock:
    now = 10.0

    def __call__(self) -> float:
        return self.now


def parse(header: str) -> dict[str, tuple[float, str | None]]:
    """Each metric's duration in ms and description; fails on anything not in the header's grammar."""
    metrics: dict[str, tuple[float, str | None]] = {}
    for part in header.split(", "):
        match = METRIC.match(part)
        assert match, f"not a Server-Timing metric: {part!r}"
        metrics[match["name"]] = (float(match["dur"]), match["desc"])
    return metrics


def test_before_any_upstream_call_only_the_relay_time_is_known() -> None:
    clock = FakeClock()
    timing = OpenTiming(clock)
    clock.now += 0.0125
    assert timing.header(served=False) == "relay;dur=12.5"


def test_a_served_first_attempt_splits_relay_and_upstream() -> None:
    clock = FakeClock()
    timing = OpenTiming(clock)
    clock.now += 0.002
    timing.calling()
    clock.now += 0.150
    timing.answered()
    clock.now += 5.0  # reading the first event is neither
    assert parse(timing.header(served=True)) == {"relay": (2.0, None), "upstream": (150.0, None)}


def test_failed_attempts_are_their_own_metric_and_not_upstream_time() -> None:
    clock = FakeClock()
    timing = OpenTiming(clock)
    clock.now += 0.001
    timing.calling()
    clock.now += 0.040
    timing.answered()  # answered, then failed before its first event
    clock.now += 0.060
    timing.calling()
    clock.now += 0.030
    timing.answered()
    assert parse(timing.header(served=True)) == {
        "relay": (1.0, None),
        "failed": (100.0, "1 attempt"),
        "upstream": (30.0, None),
    }


def test_an_error_after_attempts_counts_them_all_as_failed() -> None:
    clock = FakeClock()
    timing = OpenTiming(clock)
    timing.calling()
    clock.now += 0.020
    timing.calling()
    clock.now += 0.030
    assert parse(timing.header(served=False)) == {"relay": (0.0, None), "failed": (50.0, "2 attempts")}


@pytest.fixture
def http(every_provider_relay_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{every_provider_relay_url}/api", timeout=30, headers=AUTH_HEADERS) as session:
        yield session


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST and read the whole answer, streamed or not."""
    with http.stream("POST", path, json=body) as response:
        response.read()
    return response


ROUTES = [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": False}),
    ("/chat", {"prompt": "hi"}),
    ("/v1/responses", {"input": "hi", "stream": True}),
    ("/v1/responses", {"input": "hi", "stream": False}),
]


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_every_route_and_provider_reports_relay_and_upstream_time(
    http: httpx.Client, alias_emulators: dict[str, Any], alias: str, path: str, body: dict[str, Any]
) -> None:
    response = post(http, path, {"model": alias, **body})
    assert response.status_code == 200, response.text
    metrics = parse(response.headers["server-timing"])
    assert set(metrics) == {"relay", "upstream"}
    assert all(duration >= 0 for duration, _ in metrics.values())


@pytest.mark.parametrize("alias", ALIASES)
def test_upstream_time_includes_the_wait_for_response_headers(
    http: httpx.Client, alias_emulators: dict[str, Any], alias: str
) -> None:
    alias_emulators[alias].book.set("*", {"headers_delay_ms": HEADERS_DELAY_MS})
    response = post(http, "/v1/chat/completions", {"model": alias, "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    upstream, _ = parse(response.headers["server-timing"])["upstream"]
    assert upstream >= HEADERS_DELAY_MS


def test_a_refused_request_reports_the_relay_time(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={"model": "azure"}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert set(parse(response.headers["server-timing"])) == {"relay"}


@pytest.fixture
def failover_url(azure: AzureOpenAIEmulator, bedrock: BedrockEmulator) -> Iterator[str]:
    config = {
        "backends": [
            azure_backend("azure-first", azure.url, priority=1),  # type: ignore[attr-defined]
            bedrock_backend("bedrock-second", bedrock.url, priority=2),  # type: ignore[attr-defined]
        ],
        "models": {"chat": ["azure-first", "bedrock-second"]},
    }
    with serve_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY, **BEDROCK_ENV}) as url:
        yield f"{url}/api/v1/chat/completions"


CHAT = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def test_a_failover_reports_the_failed_attempt_apart(
    failover_url: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator
) -> None:
    azure.book.set("azure-first", {"status": 503})
    bedrock.book.set(BEDROCK_MODEL, {"headers_delay_ms": HEADERS_DELAY_MS})
    response = httpx.post(failover_url, json=CHAT, headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    metrics = parse(response.headers["server-timing"])
    assert metrics["failed"][1] == "1 attempt"
    assert metrics["upstream"][0] >= HEADERS_DELAY_MS


def test_an_exhausted_pool_reports_every_failed_attempt(
    failover_url: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator
) -> None:
    azure.book.set("azure-first", {"status": 503})
    bedrock.book.set(BEDROCK_MODEL, {"status": 503})
    response = httpx.post(failover_url, json=CHAT, headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == 503
    metrics = parse(response.headers["server-timing"])
    assert set(metrics) == {"relay", "failed"} and metrics["failed"][1] == "2 attempts"


def test_the_openapi_document_names_the_header_on_answers_and_errors() -> None:
    spec = openapi.document()
    chat = spec["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert "Server-Timing" in chat["200"]["headers"]
    assert "Server-Timing" in spec["components"]["responses"]["Error503"]["headers"]
