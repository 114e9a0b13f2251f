"""An upstream whose usage numbers are malformed: the answer still ends cleanly and the quota slot comes back.

The Azure emulator only sends well-formed usage, so a tiny Azure-shaped
upstream here streams one answer whose usage chunk reads
``{"prompt_tokens": "x", "completion_tokens": null}``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from devtools.threaded_server import ThreadedServer
from tests.builders import AUTH_HEADERS
from tests.relay_configs import CHAT_URL, chat_body, chat_config, sse_payloads
from tests.shared.limits.test_quotas_http import ledger_of

MALFORMED_USAGE = {"prompt_tokens": "x", "completion_tokens": None}


def chunk(choices: list[dict[str, Any]], usage: Any = None) -> bytes:
    document = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices}
    document["usage"] = usage
    return f"data: {json.dumps(document)}\n\n".encode()


async def malformed_usage_stream() -> AsyncIterator[bytes]:
    yield chunk([{"index": 0, "delta": {"role": "assistant", "content": "hello"}, "finish_reason": None}])
    yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    yield chunk([], usage=MALFORMED_USAGE)
    yield b"data: [DONE]\n\n"


async def completions(request: Request) -> StreamingResponse:
    await request.body()
    return StreamingResponse(malformed_usage_stream(), media_type="text/event-stream")


@pytest.fixture
def malformed_upstream() -> Iterator[str]:
    app = Starlette(routes=[Route("/openai/deployments/{deployment}/chat/completions", completions, methods=["POST"])])
    with ThreadedServer(app) as server:
        yield server.url


@pytest.fixture
def quota_server(start_relay: Callable[..., ThreadedServer], malformed_upstream: str) -> ThreadedServer:
    quotas = {"profiles": {"default": {"tokens_per_day": 10_000, "concurrent_streams": 1}}}
    policy = {"profiles": {"default": {"max_tokens": 100}}}
    return start_relay(chat_config(malformed_upstream, quotas=quotas, policy=policy))


def post(server: ThreadedServer, **fields: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{CHAT_URL}", json=chat_body(**fields), headers=AUTH_HEADERS, timeout=30)


def assert_slot_released(server: ThreadedServer) -> None:
    ledger = ledger_of(server)
    assert dict(ledger.leases) == {}
    assert ledger.spent > 0  # the whole reservation, since the usage could not be read


def test_a_streamed_answer_with_malformed_usage_ends_with_one_terminal_frame(quota_server: ThreadedServer) -> None:
    response = post(quota_server, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    payloads = sse_payloads(response)
    finishes = [p for p in payloads if p.get("choices") and p["choices"][0]["finish_reason"] is not None]
    assert len(finishes) == 1 and not [p for p in payloads if "error" in p]
    assert response.text.endswith("data: [DONE]\n\n")
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p.get("choices")) == "hello"
    assert_slot_released(quota_server)
    assert post(quota_server, stream=True).status_code == 200


def test_a_collected_answer_with_malformed_usage_is_still_an_answer(quota_server: ThreadedServer) -> None:
    response = post(quota_server)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "hello"
    assert_slot_released(quota_server)
    assert post(quota_server).status_code == 200
