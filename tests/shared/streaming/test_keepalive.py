"""Heartbeats and timeouts, on scripted sources with small real delays."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anyio
import pytest

from shared.config import StreamSettings
from shared.events import Finish, StreamError, StreamEvent, TextDelta
from shared.streaming.keepalive import HEARTBEAT, paced_events

pytestmark = pytest.mark.anyio

FAST = StreamSettings(heartbeat_seconds=0.05, first_token_timeout_seconds=5, idle_timeout_seconds=5)
FOREVER = 3600.0


class Source:
    """Yields ``(delay, event)`` pairs in order, and notes when it was closed.

    Closing takes a few loop turns, as closing a real HTTP response does.
    """

    def __init__(self, *script: tuple[float, StreamEvent]) -> None:
        self.script = script
        self.closed_at: float | None = None

    async def events(self) -> AsyncIterator[StreamEvent]:
        try:
            for delay, event in self.script:
                await asyncio.sleep(delay)
                yield event
        finally:
            await asyncio.sleep(0.01)
            self.closed_at = time.monotonic()


async def collect(source: Source, settings: StreamSettings = FAST) -> list[StreamEvent | bytes]:
    return [item async for item in paced_events(source.events(), settings)]


def heartbeats(items: list[StreamEvent | bytes]) -> int:
    return sum(1 for item in items if item == HEARTBEAT)


async def test_events_pass_unchanged_and_stop_at_the_terminal() -> None:
    source = Source((0, TextDelta("a")), (0, Finish("stop")), (0, TextDelta("late")))
    assert await collect(source) == [TextDelta("a"), Finish("stop")]
    assert source.closed_at is not None


async def test_heartbeats_while_waiting_for_the_first_token() -> None:
    items = await collect(Source((0.3, TextDelta("a")), (0, Finish("stop"))))
    assert items[-2:] == [TextDelta("a"), Finish("stop")]
    assert items[:-2] == [HEARTBEAT] * len(items[:-2])
    assert 3 <= heartbeats(items) <= 6


async def test_heartbeats_during_a_long_pause() -> None:
    items = await collect(Source((0, TextDelta("a")), (0.3, TextDelta("b")), (0, Finish("stop"))))
    assert items[0] == TextDelta("a") and items[-2:] == [TextDelta("b"), Finish("stop")]
    assert 3 <= heartbeats(items) <= 6


async def test_no_heartbeat_while_events_flow() -> None:
    script = [(0.01, TextDelta(str(n))) for n in range(20)]
    items = await collect(Source(*script, (0, Finish("stop"))), StreamSettings(heartbeat_seconds=0.1))
    assert heartbeats(items) == 0


async def test_events_arriving_together_after_heartbeats_all_pass() -> None:
    """A burst that needs no await (one socket read held several events) right after heartbeats."""
    burst = [TextDelta("a"), TextDelta("b"), TextDelta("c"), Finish("stop")]

    async def source() -> AsyncIterator[StreamEvent]:
        await asyncio.sleep(0.2)
        for event in burst:
            yield event

    items = [item async for item in paced_events(source(), FAST)]
    assert heartbeats(items) >= 2
    assert [item for item in items if item != HEARTBEAT] == burst


async def test_the_source_is_read_only_as_the_consumer_asks() -> None:
    pulled: list[int] = []

    async def source() -> AsyncIterator[StreamEvent]:
        for n in range(5):
            pulled.append(n)
            yield TextDelta(str(n))

    paced = paced_events(source(), FAST)
    assert await anext(paced) == TextDelta("0")
    await asyncio.sleep(0.12)  # heartbeats fall due meanwhile; none of them reads on
    assert pulled == [0]
    assert await anext(paced) == TextDelta("1")
    assert pulled == [0, 1]
    await paced.aclose()


async def test_first_token_timeout_ends_the_stream_and_closes_the_source() -> None:
    source = Source((FOREVER, TextDelta("never")))
    started = time.monotonic()
    items = await collect(source, StreamSettings(heartbeat_seconds=0.05, first_token_timeout_seconds=0.25))
    error = items[-1]
    assert isinstance(error, StreamError) and error.code == "first_token_timeout" and error.retryable
    assert "0.25 seconds" in error.message
    assert 0.25 <= time.monotonic() - started < 1
    assert heartbeats(items) >= 3
    assert source.closed_at is not None


async def test_idle_timeout_counts_from_the_last_event() -> None:
    source = Source((0.15, TextDelta("a")), (FOREVER, TextDelta("never")))
    settings = StreamSettings(heartbeat_seconds=0.05, first_token_timeout_seconds=0.2, idle_timeout_seconds=0.25)
    started = time.monotonic()
    items = await collect(source, settings)
    error = items[-1]
    assert TextDelta("a") in items
    assert isinstance(error, StreamError) and error.code == "idle_timeout" and error.retryable
    assert 0.4 <= time.monotonic() - started < 1.2
    assert source.closed_at is not None


async def test_a_consumer_that_stops_early_closes_the_source() -> None:
    source = Source((FOREVER, TextDelta("never")))
    paced = paced_events(source.events(), FAST)
    assert await anext(paced) == HEARTBEAT
    await paced.aclose()
    assert source.closed_at is not None


async def test_cancelling_the_consumer_closes_the_source_at_once() -> None:
    source = Source((FOREVER, TextDelta("never")))
    consumer = asyncio.ensure_future(collect(source, StreamSettings(heartbeat_seconds=FOREVER)))
    await asyncio.sleep(0.05)
    cancelled_at = time.monotonic()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert source.closed_at is not None and source.closed_at - cancelled_at < 0.1


async def test_an_empty_source_just_ends() -> None:
    assert await collect(Source()) == []


async def test_a_server_cancelling_the_response_waits_for_the_source_to_close() -> None:
    """Starlette cancels a disconnected response with an anyio scope, which cancels every await inside it."""
    source = Source((0, TextDelta("a")), (FOREVER, TextDelta("never")))
    with anyio.CancelScope() as scope:
        async for item in paced_events(source.events(), FAST):
            if item == TextDelta("a"):
                scope.cancel()
    assert source.closed_at is not None
