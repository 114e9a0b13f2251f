"""Quotas over HTTP: 429s in OpenAI's shape with Retry-After, and debits equal to the stream's usage."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from shared.limits.ledger import Ledger
from tests.azurite import Azurite
from tests.builders import AUTH_HEADERS, RELAY_TEST_KEY
from tests.relay_configs import CHAT_URL, chat_body, chat_config, error_of, relay_key, sse_payloads

SUBJECT = "key:tests"


def quota_relay(
    start: Callable[..., ThreadedServer], azure: Any, environ: dict[str, str] | None = None, **quotas: Any
) -> ThreadedServer:
    return start(chat_config(azure.url, quotas=quotas, policy={"profiles": {"default": {"max_tokens": 100}}}), environ)


def ledger_of(server: ThreadedServer) -> Ledger:
    store = server.relay.access.limiter.store  # type: ignore[attr-defined]
    return asyncio.run_coroutine_threadsafe(store.read(SUBJECT), server.loop).result(timeout=10)  # type: ignore[arg-type]


def stream(server: ThreadedServer, prompt: str = "hi") -> httpx.Response:
    body = chat_body(prompt, stream=True, stream_options={"include_usage": True})
    return httpx.post(f"{server.url}{CHAT_URL}", json=body, headers=AUTH_HEADERS, timeout=30)


@pytest.mark.usefixtures("one_rate_window")
def test_requests_per_minute(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"requests_per_minute": 2}})
    assert [stream(server).status_code for _ in range(2)] == [200, 200]
    refused = stream(server)
    error = error_of(refused, 429)
    assert (error["code"], error["type"], error["retryable"]) == ("rate_limit_exceeded", "rate_limit_error", True)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    with (
        openai.OpenAI(base_url=f"{server.url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as sdk,
        pytest.raises(openai.RateLimitError),
    ):
        sdk.chat.completions.create(model="azure", messages=[{"role": "user", "content": "hi"}])


def test_concurrent_streams(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"concurrent_streams": 1}})
    slow = chat_body(inline_prompt(chunks=6, delay_ms=150), stream=True)
    with httpx.stream("POST", f"{server.url}{CHAT_URL}", json=slow, headers=AUTH_HEADERS, timeout=30) as first:
        assert first.status_code == 200
        lines = first.iter_lines()  # held: dropping a half-read iterator closes the connection
        next(lines)
        second = stream(server)
        assert error_of(second, 429)["code"] == "rate_limit_exceeded"
        assert second.headers["retry-after"] == "1"
        assert list(lines)[-2] == "data: [DONE]"
    assert stream(server).status_code == 200


def test_a_client_that_disconnects_is_charged_its_reservation(
    start_relay: Callable[..., ThreadedServer], azure: Any
) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 10_000, "concurrent_streams": 1}})
    slow = chat_body(inline_prompt(chunks=20, delay_ms=100), stream=True)
    with httpx.stream("POST", f"{server.url}{CHAT_URL}", json=slow, headers=AUTH_HEADERS, timeout=30) as first:
        next(first.iter_lines())
    deadline = time.monotonic() + 10
    while ledger_of(server).leases and time.monotonic() < deadline:
        time.sleep(0.05)
    after = ledger_of(server)
    assert dict(after.leases) == {}
    assert after.spent > 100  # the whole reservation: the body's bytes plus the 100-token ceiling


def test_the_debit_is_the_usage_the_client_was_told(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 10_000}})
    response = stream(server, inline_prompt(prompt_tokens=17, completion_tokens=25))
    usage = sse_payloads(response)[-1]["usage"]
    assert usage["total_tokens"] == 42
    after = ledger_of(server)
    assert (after.spent, after.reserved, dict(after.leases)) == (42, 0, {})


def test_a_spent_budget_is_429_until_midnight(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 400}})
    assert stream(server, inline_prompt(prompt_tokens=150, completion_tokens=150)).status_code == 200
    refused = stream(server)
    error = error_of(refused, 429)
    assert error["code"] == "insufficient_quota" and "400" in error["message"]
    assert int(refused.headers["retry-after"]) > 1
    assert ledger_of(server).spent == 300


def test_an_upstream_that_fails_to_open_costs_nothing(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 10_000, "concurrent_streams": 1}})
    assert stream(server, inline_prompt(status=500)).status_code == 503
    after = ledger_of(server)
    assert (after.spent, dict(after.leases)) == (0, {})
    assert stream(server).status_code == 200


def test_a_non_streamed_completion_is_debited_too(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 10_000}})
    body = chat_body(inline_prompt(prompt_tokens=3, completion_tokens=4))
    document = httpx.post(f"{server.url}{CHAT_URL}", json=body, headers=AUTH_HEADERS).json()
    assert document["usage"]["total_tokens"] == 7
    assert ledger_of(server).spent == 7


@pytest.mark.usefixtures("one_rate_window")
def test_limits_are_per_identity(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    auth = {"allow_anonymous": True, "relay_keys": [relay_key("tests", RELAY_TEST_KEY)]}
    server = start_relay(
        chat_config(azure.url, auth=auth, quotas={"profiles": {"default": {"requests_per_minute": 1}}})
    )
    assert stream(server).status_code == 200
    assert httpx.post(f"{server.url}{CHAT_URL}", json=chat_body()).status_code == 200
    assert stream(server).status_code == 429


@pytest.mark.usefixtures("one_rate_window")
def test_the_table_store_enforces_limits_too(
    start_relay: Callable[..., ThreadedServer], azure: Any, azurite: Azurite
) -> None:
    table = f"quotas{uuid.uuid4().hex[:10]}"
    server = quota_relay(
        start_relay,
        azure,
        {"AzureWebJobsStorage": azurite.connection_string},
        store="table",
        table={"table_name": table},
        profiles={"default": {"requests_per_minute": 2, "tokens_per_day": 10_000}},
    )
    assert stream(server, inline_prompt(prompt_tokens=5, completion_tokens=6)).status_code == 200
    assert ledger_of(server).spent == 11
    assert stream(server).status_code == 200
    assert error_of(stream(server), 429)["code"] == "rate_limit_exceeded"


def test_cached_prompt_tokens_are_charged_in_full(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    server = quota_relay(start_relay, azure, profiles={"default": {"tokens_per_day": 10_000}})
    prompt = inline_prompt(prompt_tokens=30, completion_tokens=5, cached_tokens=20, reasoning="Think it over.")
    response = stream(server, prompt)
    assert response.status_code == 200 and b'"cached_tokens":20' in response.content
    assert ledger_of(server).spent == 30 + 5 + 4  # four reasoning tokens are completion tokens
