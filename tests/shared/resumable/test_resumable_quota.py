"""A resumable stream is one request to quotas and the router, however often it is resumed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.builders import AUTH_HEADERS
from tests.relay_configs import CHAT_URL, chat_body, chat_config
from tests.shared.resumable.sse_text import RESUMABLE, events_of, read_events


def test_a_left_and_resumed_stream_is_charged_its_usage_once(
    start_relay: Callable[..., ThreadedServer], azure: Any
) -> None:
    quotas = {"profiles": {"default": {"tokens_per_day": 10_000}}}
    server = start_relay(chat_config(azure.url, quotas=quotas, policy={"profiles": {"default": {"max_tokens": 100}}}))
    prompt = inline_prompt(chunks=12, delay_ms=60, prompt_tokens=17, completion_tokens=25)
    body = chat_body(prompt, stream=True, stream_options={"include_usage": True})
    with (
        httpx.Client(base_url=server.url, headers=AUTH_HEADERS, timeout=30) as client,
        client.stream("POST", CHAT_URL, json=body, headers=RESUMABLE) as response,
    ):
        stream_id = response.headers["x-relay-stream-id"]
        read_events(response, 3)
    for _ in range(2):
        resumed = httpx.get(f"{server.url}/api/v1/streams/{stream_id}", params={"after": "3"}, headers=AUTH_HEADERS)
        usage = [event.json()["usage"] for event in events_of(resumed.text) if '"usage"' in event.data]
        assert usage[-1]["total_tokens"] == 42
    store = server.relay.access.limiter.store  # type: ignore[attr-defined]
    ledger = asyncio.run_coroutine_threadsafe(store.read("key:tests"), server.loop).result(timeout=10)  # type: ignore[arg-type]
    assert (ledger.spent, ledger.reserved, dict(ledger.leases)) == (42, 0, {})
    assert len(azure.recorder.records) == 1
