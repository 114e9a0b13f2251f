"""Folding a whole stream into one document: failures become relay errors, never half an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.dialects.collected import fold
from shared.errors import RelayError, UpstreamError
from shared.events import Finish, StreamError, StreamEvent, TextDelta


async def stream(*events: StreamEvent) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


@pytest.mark.anyio
async def test_every_event_reaches_the_builder_in_order() -> None:
    seen: list[StreamEvent] = []
    await fold(stream(TextDelta("a"), TextDelta("b"), Finish("stop")), seen.append, "completion")
    assert seen == [TextDelta("a"), TextDelta("b"), Finish("stop")]


@pytest.mark.anyio
async def test_a_stream_error_is_raised_as_the_upstream_error_it_reports() -> None:
    seen: list[StreamEvent] = []
    failed = stream(TextDelta("half"), StreamError("idle_timeout", "quiet", retryable=True, retry_after=2.5))
    with pytest.raises(UpstreamError) as raised:
        await fold(failed, seen.append, "response")
    assert (raised.value.code, raised.value.retryable, raised.value.retry_after) == ("idle_timeout", True, 2.5)
    assert seen == [TextDelta("half")]


@pytest.mark.anyio
async def test_a_builder_bug_is_an_internal_error_named_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: StreamEvent) -> None:
        raise KeyError("index")

    with pytest.raises(RelayError) as raised:
        await fold(stream(TextDelta("a")), broken, "response")
    assert raised.value.code == "internal_error" and "building the response" in raised.value.message
    assert "collecting a response" in caplog.text and "KeyError" in caplog.text
