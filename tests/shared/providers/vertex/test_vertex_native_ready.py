"""Gemini's native reader says when its next event is already translated, so one read's events go out in one write.

The response stands in for aiohttp's: a body delivered in the reads given,
SSE framed with CRLF as Gemini frames it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import RelayError
from shared.events import Finish, TextDelta, Usage
from shared.providers.vertex.native_api import NativeEvents

pytestmark = pytest.mark.anyio


class Body:
    """Just enough of ``aiohttp.ClientResponse``: the body in the reads given; notes being released."""

    def __init__(self, *reads: bytes) -> None:
        self.reads, self.closed = list(reads), False
        self.content = self

    async def readany(self) -> bytes:
        """The next read, then ``b""`` at the end of the body, as aiohttp's stream reader answers."""
        return self.reads.pop(0) if self.reads else b""

    def release(self) -> None:
        self.closed = True


def frame(document: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(document).encode() + b"\r\n\r\n"


def text(piece: str, finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": piece}]}}
    if finish:
        candidate["finishReason"] = finish
    document: dict[str, Any] = {"candidates": [candidate]}
    if finish:
        document["usageMetadata"] = {"promptTokenCount": 3, "candidatesTokenCount": 2}
    return frame(document)


async def test_ready_holds_while_a_read_has_events_left() -> None:
    body = Body(text("a") + text("b"), text("c", finish="STOP"))
    events = NativeEvents(body, "west")  # type: ignore[arg-type]
    assert not events.ready()
    assert await anext(events) == TextDelta("a")
    assert events.ready()
    assert await anext(events) == TextDelta("b")
    assert not events.ready()  # c is in the next read
    rest = [event async for event in events]
    assert rest[0] == TextDelta("c") and isinstance(rest[1], Usage) and rest[2] == Finish("stop")
    assert body.closed


async def test_a_broken_chunk_is_raised_after_the_events_before_it() -> None:
    body = Body(text("a") + b"data: {oops\r\n\r\n")
    events = NativeEvents(body, "west")  # type: ignore[arg-type]
    assert await anext(events) == TextDelta("a")
    with pytest.raises(RelayError):
        await anext(events)
    assert body.closed


async def test_a_body_that_ends_without_a_finish_is_truncated() -> None:
    events = NativeEvents(Body(text("a")), "west")  # type: ignore[arg-type]
    assert await anext(events) == TextDelta("a")
    with pytest.raises(RelayError) as caught:
        await anext(events)
    assert caught.value.code == "upstream_truncated"
