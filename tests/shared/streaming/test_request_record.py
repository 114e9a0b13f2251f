"""The per-request log line: fields, outcomes, and nothing secret."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest

from shared.events import Finish, StreamError, StreamEvent, TextDelta, Usage
from shared.streaming.keepalive import HEARTBEAT
from shared.streaming.request_record import RequestTrace, traced_events

pytestmark = pytest.mark.anyio


class Ticks:
    """A clock that advances 0.1 s every time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.1
        return self.now


async def source(*items: StreamEvent | bytes) -> AsyncIterator[StreamEvent | bytes]:
    for item in items:
        yield item


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "relay.requests"]


@pytest.mark.parametrize(
    ("items", "outcome"),
    [
        ((HEARTBEAT, TextDelta("a"), Usage(3, 1), Finish("stop")), "ok"),
        ((TextDelta("a"), StreamError("idle_timeout", "quiet", retryable=True)), "idle_timeout"),
    ],
)
async def test_a_stream_is_logged_once_with_its_outcome(
    caplog: pytest.LogCaptureFixture, items: tuple[StreamEvent | bytes, ...], outcome: str
) -> None:
    trace = RequestTrace(clock=Ticks(), alias="gpt", stream=True, backend="east", attempts=2)
    with caplog.at_level(logging.INFO, logger="relay.requests"):
        assert [item async for item in traced_events(source(*items), trace)] == list(items)
        trace.finish("ignored: already finished")
    (line,) = logged(caplog)
    assert line["outcome"] == outcome
    assert (line["alias"], line["backend"], line["attempts"], line["stream"]) == ("gpt", "east", 2, True)
    assert line["ttft_ms"] == 100  # the first text, one tick after the start
    assert isinstance(line["duration_ms"], int) and line["duration_ms"] > 100


async def test_usage_is_logged_and_text_is_not(caplog: pytest.LogCaptureFixture) -> None:
    trace = RequestTrace(alias="gpt")
    with caplog.at_level(logging.INFO, logger="relay.requests"):
        async for _ in traced_events(source(TextDelta("private words"), Usage(11, 5), Finish("stop")), trace):
            pass
    (line,) = logged(caplog)
    assert (line["tokens_in"], line["tokens_out"]) == (11, 5)
    assert "private words" not in caplog.text


async def test_a_stream_abandoned_by_the_client_is_logged_as_such(caplog: pytest.LogCaptureFixture) -> None:
    trace = RequestTrace(alias="gpt")
    events = traced_events(source(TextDelta("a"), TextDelta("b"), Finish("stop")), trace)
    with caplog.at_level(logging.INFO, logger="relay.requests"):
        await anext(events)
        await events.aclose()
    (line,) = logged(caplog)
    assert line["outcome"] == "client_disconnected" and line["tokens_out"] is None
