"""A failure injected at each stage of the pipeline, over real HTTP against the Azure emulator.

Whatever breaks (an adapter, an encoder, metering or tracing) the client
gets one terminal frame or an OpenAI-style JSON error, never a cut
connection, and afterwards the quota slot is free and the backend is not
left ``probing`` or charged with a failure that was the relay's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from shared.dialects import typed_events
from shared.dialects.openai_chat import ChunkEncoder
from shared.events import StreamEvent, TextDelta
from shared.limits import Limiter, Ticket
from shared.routing.state import Condition
from shared.streaming.request_record import RequestTrace
from tests.builders import AUTH_HEADERS
from tests.relay_configs import CHAT_URL, chat_body, chat_config
from tests.shared.test_chat_route import parse_events

SUBJECT = "key:tests"
EVENTS_URL = "/api/chat"


def broken(*_: Any, **__: Any) -> Any:
    raise RuntimeError("injected failure")


def on_text(real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, except that it fails when handed a text delta."""

    def method(self: Any, event: StreamEvent | bytes, *rest: Any) -> Any:
        if isinstance(event, TextDelta):
            raise RuntimeError("injected failure")
        return real(self, event, *rest)

    return method


async def settle_broken(self: Limiter, ticket: Ticket, used: int | None) -> None:
    raise RuntimeError("injected failure")


def typed_on_text(event: StreamEvent) -> tuple[str, dict[str, Any]]:
    if isinstance(event, TextDelta):
        raise RuntimeError("injected failure")
    return REAL_TYPED(event)


REAL_TYPED = typed_events._typed

INJECTIONS: dict[str, tuple[Any, str, Any]] = {
    "trace_note": (RequestTrace, "note", on_text(RequestTrace.note)),
    "trace_finish": (RequestTrace, "finish", broken),
    "meter_settle": (Limiter, "settle", settle_broken),
    "openai_encoder": (ChunkEncoder, "encode", on_text(ChunkEncoder.encode)),
    "typed_encoder": (typed_events, "_typed", typed_on_text),
}


@pytest.fixture
def server(start_relay: Callable[..., ThreadedServer], azure: Any) -> ThreadedServer:
    quotas = {"profiles": {"default": {"tokens_per_day": 100_000, "concurrent_streams": 1}}}
    return start_relay(chat_config(azure.url, quotas=quotas, policy={"profiles": {"default": {"max_tokens": 100}}}))


def terminal_frames(response: httpx.Response, url: str) -> list[str]:
    if url == EVENTS_URL:
        return [name for name, _ in parse_events(response.content) if name in ("done", "error")]
    data = [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]
    return [frame for frame in data if frame == "[DONE]" or "error" in json.loads(frame)]


def body_for(url: str) -> dict[str, Any]:
    if url == EVENTS_URL:
        return {"model": "azure", "prompt": "hi"}
    return chat_body(stream=True)


def assert_settled(server: ThreadedServer) -> None:
    store = server.relay.access.limiter.store  # type: ignore[attr-defined]
    ledger = asyncio.run_coroutine_threadsafe(store.read(SUBJECT), server.loop).result(timeout=10)  # type: ignore[arg-type]
    assert dict(ledger.leases) == {}
    router = server.relay.router  # type: ignore[attr-defined]
    assert router.condition("azure-east") is Condition.HEALTHY
    assert router.state("azure-east").consecutive_failures == 0


@pytest.mark.parametrize("url", [CHAT_URL, EVENTS_URL])
@pytest.mark.parametrize("stage", sorted(INJECTIONS))
def test_a_failing_stage_still_ends_the_stream_once_and_settles_everything(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch, stage: str, url: str
) -> None:
    target, name, replacement = INJECTIONS[stage]
    monkeypatch.setattr(target, name, replacement)
    response = httpx.post(f"{server.url}{url}", json=body_for(url), headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == 200
    assert len(terminal_frames(response, url)) == 1, response.text
    assert "injected failure" not in response.text
    monkeypatch.undo()
    assert_settled(server)
    again = httpx.post(f"{server.url}{url}", json=body_for(url), headers=AUTH_HEADERS, timeout=30)
    assert again.status_code == 200 and len(terminal_frames(again, url)) == 1


@pytest.mark.parametrize("stage", ["trace_note", "meter_settle"])
def test_a_failing_stage_under_a_collected_completion_is_a_json_answer(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    target, name, replacement = INJECTIONS[stage]
    monkeypatch.setattr(target, name, replacement)
    response = httpx.post(f"{server.url}{CHAT_URL}", json=chat_body(), headers=AUTH_HEADERS, timeout=30)
    assert response.headers["content-type"].startswith("application/json")
    assert response.status_code in (200, 500) and "injected failure" not in response.text
    monkeypatch.undo()
    assert_settled(server)


@pytest.mark.parametrize(("error", "status"), [(ValueError("NaN"), 400), (KeyError("bug"), 500)])
def test_an_adapter_open_that_raises_is_a_json_error(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    async def open_raising(request: Any) -> Any:
        raise error

    monkeypatch.setattr(server.relay.relay.adapters["azure-east"], "open", open_raising)  # type: ignore[attr-defined]
    response = httpx.post(f"{server.url}{CHAT_URL}", json=chat_body(stream=True), headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == status
    assert response.json()["error"]["code"] == ("invalid_request" if status == 400 else "internal_error")
    monkeypatch.undo()
    assert_settled(server)
