"""Bedrock's reader says when its next event is already translated, so one segment's events go out in one write."""

from __future__ import annotations

import pytest

from devtools.emulators.eventstream import event_frame
from shared.events import Finish, TextDelta
from shared.providers.bedrock.adapter import CanonicalEvents

pytestmark = pytest.mark.anyio


class Segments:
    """Just enough of ``aiohttp.ClientResponse.content``: one received segment per read, then b"" for the end."""

    def __init__(self, segments: list[bytes]) -> None:
        self._segments = segments

    async def readany(self) -> bytes:
        return self._segments.pop(0) if self._segments else b""


class FakeResponse:
    def __init__(self, segments: list[bytes]) -> None:
        self.content = Segments(segments)

    def close(self) -> None:
        pass


def text(piece: str) -> bytes:
    return event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})


STOP = event_frame("messageStop", {"stopReason": "end_turn"})


async def test_ready_holds_while_a_received_segment_has_events_left() -> None:
    events = CanonicalEvents(FakeResponse([text("a") + text("b"), text("c") + STOP]), "east")  # type: ignore[arg-type]
    assert not events.ready()  # nothing received yet: the next event needs a read
    assert await anext(events) == TextDelta("a")
    assert events.ready()
    assert await anext(events) == TextDelta("b")
    assert not events.ready()  # c is in the next segment
    assert [event async for event in events] == [TextDelta("c"), Finish("stop")]
    assert not events.ready()
