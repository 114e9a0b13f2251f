"""Failover inside one request, with scripted in-process adapters and a fake clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.config import RelayConfig, parse_config
from shared.errors import (
    ModelNotFound,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from shared.events import Finish, StreamError, StreamEvent, TextDelta
from shared.providers.contract import UpstreamStream
from shared.relay import Relay
from shared.routing import Router
from shared.routing.state import Condition
from shared.streaming.keepalive import HEARTBEAT
from shared.streaming.request_record import RequestTrace

pytestmark = pytest.mark.anyio

Reply = UpstreamError | Sequence[StreamEvent | float] | Callable[[], Any]
SLOW = 3600.0


class FakeClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ScriptedAdapter:
    """Answers each ``open`` with the next reply: an error to raise, or events to stream."""

    name: str
    replies: list[Reply]
    opened: int = 0
    closed: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    async def open(self, request: ChatRequest) -> UpstreamStream:
        reply = self.replies[min(self.opened, len(self.replies) - 1)]
        self.opened += 1
        if callable(reply):
            reply = await reply()
        if isinstance(reply, UpstreamError):
            raise reply
        return UpstreamStream(events=self._events(reply), headers=self.headers)

    async def _events(self, events: Sequence[StreamEvent | float]) -> AsyncIterator[StreamEvent]:
        try:
            for event in events:
                if isinstance(event, float):
                    await asyncio.sleep(event)
                else:
                    yield event
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        pass


OK: list[StreamEvent | float] = [TextDelta("hi"), Finish("stop")]


def backend(name: str, priority: int = 1, weight: float = 1) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "azure_openai",
        "endpoint": "https://x.openai.azure.com",
        "deployment": name,
        "priority": priority,
        "weight": weight,
    }


def relay_with(
    adapters: list[ScriptedAdapter], clock: FakeClock | None = None, **sections: Any
) -> tuple[Relay, dict[str, ScriptedAdapter]]:
    """A relay whose alias ``gpt`` has one backend per adapter, priorities in list order."""
    document = {
        "backends": [backend(adapter.name, priority=index) for index, adapter in enumerate(adapters, start=1)],
        "models": {"gpt": [adapter.name for adapter in adapters]},
        **sections,
    }
    config: RelayConfig = parse_config(document)
    pools = {alias: [config.backend(name) for name in names] for alias, names in config.models.items()}
    router = Router(pools, config.routing, clock=clock or FakeClock(), rng=random.Random(3))
    by_name = {adapter.name: adapter for adapter in adapters}
    return Relay(config, by_name, router=router), by_name


def chat(model: str = "gpt") -> ChatRequest:
    return ChatRequest.model_validate({"model": model, "messages": [{"role": "user", "content": "hi"}]})


async def drain(relay: Relay) -> tuple[str, int, list[StreamEvent | bytes]]:
    opened = await relay.open(chat())
    return opened.backend, opened.attempts, [item async for item in opened.events]


def limited(seconds: float | None = None) -> UpstreamRateLimited:
    return UpstreamRateLimited("busy", retry_after=seconds)


def broken() -> UpstreamUnavailable:
    return UpstreamUnavailable("down")


async def test_the_first_backend_serves_when_healthy() -> None:
    relay, _ = relay_with([ScriptedAdapter("a", [OK]), ScriptedAdapter("b", [OK])])
    assert await drain(relay) == ("a", 1, OK)


@pytest.mark.parametrize("failure", [limited(5), broken(), UpstreamUnavailable("x", code="upstream_auth_failed")])
async def test_a_retryable_open_failure_moves_to_the_next_backend(failure: UpstreamError) -> None:
    relay, adapters = relay_with([ScriptedAdapter("a", [failure]), ScriptedAdapter("b", [OK])])
    assert await drain(relay) == ("b", 2, OK)
    assert adapters["a"].opened == 1


async def test_a_request_the_upstream_rejects_is_not_retried() -> None:
    relay, adapters = relay_with([ScriptedAdapter("a", [UpstreamRejected("bad")]), ScriptedAdapter("b", [OK])])
    with pytest.raises(UpstreamRejected):
        await relay.open(chat())
    assert adapters["b"].opened == 0
    assert relay.router.condition("a") is Condition.HEALTHY


async def test_unknown_alias() -> None:
    relay, _ = relay_with([ScriptedAdapter("a", [OK])])
    with pytest.raises(ModelNotFound):
        await relay.open(chat("nope"))


async def test_every_backend_rate_limited_is_a_429_with_the_earliest_recovery() -> None:
    relay, _ = relay_with([ScriptedAdapter("a", [limited(30)]), ScriptedAdapter("b", [limited(4)])])
    with pytest.raises(UpstreamRateLimited) as caught:
        await relay.open(chat())
    assert caught.value.status == 429 and caught.value.retry_after == 4


async def test_a_cooling_pool_answers_429_without_calling_any_upstream() -> None:
    clock = FakeClock()
    relay, adapters = relay_with(
        [ScriptedAdapter("a", [limited(10), OK]), ScriptedAdapter("b", [limited(6), OK])], clock
    )
    with pytest.raises(UpstreamRateLimited):
        await relay.open(chat())
    clock.now = 2
    with pytest.raises(UpstreamRateLimited) as caught:
        await relay.open(chat())
    assert caught.value.retry_after == 4
    assert (adapters["a"].opened, adapters["b"].opened) == (1, 1)
    clock.now = 6
    assert await drain(relay) == ("b", 1, OK)


async def test_mixed_failures_are_a_503() -> None:
    relay, _ = relay_with([ScriptedAdapter("a", [limited(30)]), ScriptedAdapter("b", [broken()])])
    with pytest.raises(UpstreamUnavailable) as caught:
        await relay.open(chat())
    assert caught.value.status == 503 and caught.value.code == "upstream_unavailable"
    assert caught.value.retry_after == 30


async def test_a_429_beside_an_open_circuit_is_a_503() -> None:
    relay, _ = relay_with(
        [ScriptedAdapter("a", [broken()]), ScriptedAdapter("b", [OK, limited(3)])],
        routing={"breaker": {"failure_threshold": 1, "open_seconds": 30}},
    )
    assert (await drain(relay))[0] == "b"
    with pytest.raises(UpstreamUnavailable) as caught:
        await relay.open(chat())  # a is resting, b is rate limited
    assert caught.value.status == 503 and caught.value.retry_after == 3


async def test_open_circuits_are_a_503_without_calling_the_upstream() -> None:
    relay, adapters = relay_with(
        [ScriptedAdapter("a", [broken()])], routing={"breaker": {"failure_threshold": 2, "open_seconds": 30}}
    )
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await relay.open(chat())
    with pytest.raises(UpstreamUnavailable) as caught:
        await relay.open(chat())
    assert caught.value.status == 503 and caught.value.retry_after == 30
    assert adapters["a"].opened == 2


async def test_attempts_are_capped() -> None:
    adapters = [ScriptedAdapter(name, [broken()]) for name in "abcd"]
    relay, by_name = relay_with(adapters, routing={"failover": {"max_attempts": 2}})
    trace = RequestTrace()
    with pytest.raises(UpstreamUnavailable):
        await relay.open(chat(), trace)
    assert [by_name[name].opened for name in "abcd"] == [1, 1, 0, 0]
    assert trace.attempts == 2 and trace.backend is None


async def test_the_time_budget_abandons_a_hanging_open_as_a_timeout() -> None:
    async def hang() -> None:
        await asyncio.sleep(SLOW)

    relay, adapters = relay_with(
        [ScriptedAdapter("a", [hang]), ScriptedAdapter("b", [OK])], routing={"failover": {"budget_seconds": 0.2}}
    )
    with pytest.raises(UpstreamUnavailable) as caught:
        await relay.open(chat())
    assert caught.value.code == "upstream_timeout"
    assert adapters["b"].opened == 0
    assert relay.router.state("a").consecutive_failures == 1


async def test_a_stream_that_dies_before_its_first_event_fails_over_silently() -> None:
    relay, adapters = relay_with([ScriptedAdapter("a", [[]]), ScriptedAdapter("b", [OK])])
    assert await drain(relay) == ("b", 2, OK)  # a's empty stream was reported as truncated
    assert adapters["a"].closed == 1
    assert relay.router.state("a").consecutive_failures == 1


async def test_a_first_token_timeout_before_any_byte_fails_over() -> None:
    relay, adapters = relay_with(
        [ScriptedAdapter("a", [[SLOW]]), ScriptedAdapter("b", [OK])],
        stream={"heartbeat_seconds": 5, "first_token_timeout_seconds": 0.1},
    )
    assert await drain(relay) == ("b", 2, OK)
    assert adapters["a"].closed == 1


async def test_after_the_first_item_a_failure_ends_the_stream_and_never_switches() -> None:
    failing = [TextDelta("half"), StreamError("upstream_disconnected", "lost", retryable=True)]
    relay, adapters = relay_with([ScriptedAdapter("a", [failing]), ScriptedAdapter("b", [OK])])
    backend_name, attempts, items = await drain(relay)
    assert (backend_name, attempts) == ("a", 1)
    assert items == failing
    assert adapters["b"].opened == 0
    assert relay.router.state("a").consecutive_failures == 1


async def test_a_heartbeat_commits_the_backend() -> None:
    relay, adapters = relay_with(
        [ScriptedAdapter("a", [[0.3, TextDelta("late"), Finish("stop")]]), ScriptedAdapter("b", [OK])],
        stream={"heartbeat_seconds": 0.1},
    )
    backend_name, _, items = await drain(relay)
    assert backend_name == "a" and items[0] == HEARTBEAT and items[-1] == Finish("stop")
    assert adapters["b"].opened == 0


async def test_success_closes_a_half_open_circuit() -> None:
    clock = FakeClock()
    relay, _ = relay_with(
        [ScriptedAdapter("a", [broken(), OK])], clock, routing={"breaker": {"failure_threshold": 1, "open_seconds": 10}}
    )
    with pytest.raises(UpstreamUnavailable):
        await relay.open(chat())
    assert relay.router.condition("a") is Condition.CIRCUIT_OPEN
    clock.now = 10
    opened = await relay.open(chat())
    assert relay.router.condition("a") is Condition.PROBING
    assert [item async for item in opened.events] == OK
    assert relay.router.condition("a") is Condition.HEALTHY


async def test_a_stream_closed_by_the_client_is_neutral_and_closes_the_upstream() -> None:
    relay, adapters = relay_with([ScriptedAdapter("a", [[TextDelta("a"), SLOW]])])
    opened = await relay.open(chat())
    assert await anext(opened.events) == TextDelta("a")
    await opened.events.aclose()
    assert adapters["a"].closed == 1
    assert relay.router.state("a").consecutive_failures == 0


async def test_cancelling_while_opening_closes_the_upstream() -> None:
    relay, adapters = relay_with([ScriptedAdapter("a", [[SLOW]])], stream={"heartbeat_seconds": SLOW})
    opening = asyncio.ensure_future(relay.open(chat()))
    await asyncio.sleep(0.05)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert adapters["a"].opened == 1 and adapters["a"].closed == 1


async def test_headroom_headers_are_remembered() -> None:
    adapter = ScriptedAdapter("a", [OK], headers={"x-ratelimit-remaining-requests": "1"})
    relay, _ = relay_with([adapter, ScriptedAdapter("b", [OK])])
    assert (await drain(relay))[0] == "a"
    assert (await drain(relay))[0] == "b"  # a is nearly exhausted now
