"""Every backend the router hands out is reported back exactly once, however its attempt ends.

A half-open backend's probe is the sharpest case: if its outcome is never
recorded the backend stays ``probing`` and the whole pool answers 503 until
the process restarts. The fake adapters here fail at the transport seam, the
adapter's ``open`` and its event stream, in every way an adapter can.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.config import parse_config
from shared.errors import InvalidRequest, RelayError, UpstreamError, UpstreamUnavailable
from shared.events import Finish, StreamEvent, TextDelta
from shared.providers.contract import UpstreamStream
from shared.relay import Relay
from shared.routing import Router, outcome_of_error
from shared.routing.state import Condition

pytestmark = pytest.mark.anyio

OK: list[StreamEvent] = [TextDelta("hi"), Finish("stop")]
Opening = Callable[[], Awaitable[UpstreamStream]]


class FakeClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def events_of(items: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for item in items:
        yield item


async def healthy() -> UpstreamStream:
    return UpstreamStream(events_of(OK))


@dataclass
class FakeAdapter:
    """An adapter whose next ``open`` does whatever the test put in ``opening``."""

    opening: Opening

    async def open(self, request: ChatRequest) -> UpstreamStream:
        return await self.opening()

    async def aclose(self) -> None:
        pass


def half_open_relay(adapter: FakeAdapter) -> tuple[Relay, FakeClock]:
    """A relay with one backend ``a`` whose circuit has opened and rested: the next request probes it."""
    document: dict[str, Any] = {
        "backends": [
            {"name": "a", "provider": "azure_openai", "endpoint": "https://x.openai.azure.com", "deployment": "a"}
        ],
        "models": {"gpt": ["a"]},
        "routing": {"breaker": {"failure_threshold": 1, "open_seconds": 10}},
    }
    config = parse_config(document)
    clock = FakeClock()
    router = Router({"gpt": [config.backend("a")]}, config.routing, clock=clock, rng=random.Random(1))
    relay = Relay(config, {"a": adapter}, router=router)
    router.choose("gpt")
    router.record("a", outcome_of_error(UpstreamUnavailable("down")))
    clock.now = 10
    assert relay.router.condition("a") is Condition.HALF_OPEN
    return relay, clock


def chat() -> ChatRequest:
    return ChatRequest.model_validate({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]})


async def assert_recovers(relay: Relay, adapter: FakeAdapter) -> None:
    """The probe slot is free again, and a later request is served once the upstream is healthy."""
    assert relay.router.condition("a") is not Condition.PROBING
    assert [backend["state"] for backend in relay.health()["backends"]] == ["half_open"]  # type: ignore[attr-defined]
    adapter.opening = healthy
    opened = await relay.open(chat())
    assert [item async for item in opened.events] == OK
    assert relay.router.condition("a") is Condition.HEALTHY


def raising(error: BaseException) -> Opening:
    async def opening() -> UpstreamStream:
        raise error

    return opening


@pytest.mark.parametrize("error", [ValueError("Out of range float values are not JSON compliant"), TypeError("x")])
async def test_an_open_that_cannot_translate_the_request_is_a_400_and_frees_the_probe(error: Exception) -> None:
    adapter = FakeAdapter(raising(error))
    relay, _ = half_open_relay(adapter)
    with pytest.raises(InvalidRequest) as caught:
        await relay.open(chat())
    assert caught.value.status == 400 and "request" in caught.value.message
    await assert_recovers(relay, adapter)


async def test_an_adapter_bug_in_open_is_a_clean_relay_error_and_frees_the_probe() -> None:
    adapter = FakeAdapter(raising(KeyError("choices")))
    relay, _ = half_open_relay(adapter)
    with pytest.raises(RelayError) as caught:
        await relay.open(chat())
    assert caught.value.status == 500 and caught.value.code == "internal_error"
    await assert_recovers(relay, adapter)


async def test_an_open_cancelled_because_the_client_left_frees_the_probe() -> None:
    started = asyncio.Event()

    async def hang() -> UpstreamStream:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    adapter = FakeAdapter(hang)
    relay, _ = half_open_relay(adapter)
    opening = asyncio.ensure_future(relay.open(chat()))
    await started.wait()
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await assert_recovers(relay, adapter)


async def test_a_first_read_that_fails_frees_the_probe() -> None:
    async def broken_events() -> AsyncIterator[StreamEvent]:
        raise KeyError("choices")
        yield TextDelta("never")

    async def opening() -> UpstreamStream:
        return UpstreamStream(broken_events())

    adapter = FakeAdapter(opening)
    relay, _ = half_open_relay(adapter)
    with pytest.raises(UpstreamError):
        await relay.open(chat())
    await assert_recovers(relay, adapter)


async def test_a_first_read_cancelled_because_the_client_left_frees_the_probe() -> None:
    reading = asyncio.Event()

    async def slow_events() -> AsyncIterator[StreamEvent]:
        reading.set()
        await asyncio.sleep(3600)
        yield TextDelta("never")

    async def opening() -> UpstreamStream:
        return UpstreamStream(slow_events())

    adapter = FakeAdapter(opening)
    relay, _ = half_open_relay(adapter)
    task = asyncio.ensure_future(relay.open(chat()))
    await reading.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_recovers(relay, adapter)


async def test_a_committed_stream_that_the_client_drops_frees_the_probe() -> None:
    async def long_events() -> AsyncIterator[StreamEvent]:
        yield TextDelta("a")
        await asyncio.sleep(3600)
        yield Finish("stop")

    async def opening() -> UpstreamStream:
        return UpstreamStream(long_events())

    adapter = FakeAdapter(opening)
    relay, _ = half_open_relay(adapter)
    opened = await relay.open(chat())
    assert await anext(opened.events) == TextDelta("a")
    await opened.events.aclose()
    await assert_recovers(relay, adapter)
