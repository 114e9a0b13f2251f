"""The one-terminal-event contract and upstream cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.errors import UpstreamUnavailable
from shared.events import Finish, StreamError, StreamEvent, TextDelta
from shared.providers.contract import UpstreamStream
from shared.streaming.terminal_guarantee import guarded_events


class Tracked:
    def __init__(self, *events: StreamEvent, fail: Exception | None = None) -> None:
        self.events = events
        self.fail = fail
        self.closed = False

    async def stream(self) -> AsyncIterator[StreamEvent]:
        try:
            for event in self.events:
                yield event
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed = True


async def run(source: Tracked) -> list[StreamEvent]:
    return [event async for event in guarded_events(UpstreamStream(events=source.stream()), "b")]


@pytest.mark.anyio
async def test_finish_passes_and_upstream_closes() -> None:
    source = Tracked(TextDelta("a"), Finish("stop"))
    assert await run(source) == [TextDelta("a"), Finish("stop")]
    assert source.closed


@pytest.mark.anyio
async def test_truncation_becomes_an_error() -> None:
    events = await run(Tracked(TextDelta("a")))
    assert isinstance(events[-1], StreamError) and events[-1].code == "upstream_truncated"


@pytest.mark.anyio
async def test_relay_errors_become_error_events() -> None:
    source = Tracked(TextDelta("a"), fail=UpstreamUnavailable("lost", code="upstream_disconnected"))
    events = await run(source)
    assert events[-1] == StreamError("upstream_disconnected", "lost", retryable=True)
    assert source.closed


@pytest.mark.anyio
async def test_unexpected_exceptions_do_not_leak_details() -> None:
    events = await run(Tracked(fail=RuntimeError("secret-ish internals")))
    assert isinstance(events[-1], StreamError)
    assert events[-1].code == "internal_error" and "internals" not in events[-1].message


@pytest.mark.anyio
async def test_events_after_a_terminal_event_are_dropped() -> None:
    source = Tracked(Finish("stop"), TextDelta("late"))
    assert await run(source) == [Finish("stop")]
    assert source.closed


LEAKY = "denied for AKIAIOSFODNN7EXAMPLE at https://upstream.example/x?sig=1"
CLEAN = "denied for [redacted] at [url]"


@pytest.mark.anyio
async def test_upstream_error_text_is_scrubbed_where_it_enters_the_stream() -> None:
    assert (await run(Tracked(StreamError("e", LEAKY))))[-1] == StreamError("e", CLEAN)
    assert (await run(Tracked(fail=UpstreamUnavailable(LEAKY))))[-1].message == CLEAN  # type: ignore[union-attr]
