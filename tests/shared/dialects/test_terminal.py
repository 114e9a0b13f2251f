"""Whatever fails inside the pipeline, a client stream ends with exactly one terminal frame.

Each test breaks one stage, the encoder of either dialect or the event
stream under it (where metering and tracing run), and checks the frames the
client would read and that the stream under the encoder was closed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest

from shared.dialects import typed_events
from shared.dialects.openai_chat import ChunkEncoder, collect_completion, encode_stream
from shared.errors import RelayError
from shared.events import Finish, Heartbeat, StreamError, StreamEvent, TextDelta, Usage

pytestmark = pytest.mark.anyio

Item = StreamEvent


class Source:
    """Canonical items, optionally failing after them; remembers being closed."""

    def __init__(self, *items: Item, fail: Exception | None = None) -> None:
        self.items, self.fail, self.closed = items, fail, False

    async def events(self) -> AsyncGenerator[Item, None]:
        try:
            for item in self.items:
                yield item
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed = True


class BrokenEncoder(ChunkEncoder):
    """Fails on the event type it is told to."""

    broken: type = TextDelta

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, self.broken):
            raise ValueError("encoder bug")
        return super().encode(event)


def openai_frames(raw: list[bytes]) -> list[Any]:
    text = b"".join(raw).decode()
    return [block[len("data: ") :] for block in text.split("\n\n") if block.startswith("data: ")]


def openai_terminals(raw: list[bytes]) -> list[str]:
    """``[DONE]`` and error frames: a well-ended stream has exactly one of them."""
    frames = openai_frames(raw)
    return [frame for frame in frames if frame == "[DONE]" or "error" in json.loads(frame)]


def typed_terminals(raw: list[bytes]) -> list[str]:
    names = [line[len("event: ") :] for line in b"".join(raw).decode().split("\n") if line.startswith("event: ")]
    return [name for name in names if name in ("done", "error")]


async def collect(stream: AsyncGenerator[bytes, None] | Any) -> list[bytes]:
    return [frame async for frame in stream]


def failures() -> Iterator[Source]:
    yield Source(TextDelta("a"), Heartbeat(), fail=RuntimeError("meter broke"))
    yield Source(TextDelta("a"))  # ended without a terminal event


@pytest.mark.parametrize("source", list(failures()))
async def test_openai_stream_whose_events_fail_ends_with_one_error_frame(source: Source) -> None:
    raw = await collect(encode_stream(source.events(), ChunkEncoder(model="m")))
    terminals = openai_terminals(raw)
    assert len(terminals) == 1 and json.loads(terminals[0])["error"]["code"] in ("internal_error", "relay_truncated")
    assert source.closed


@pytest.mark.parametrize("source", list(failures()))
async def test_typed_stream_whose_events_fail_ends_with_one_error_event(source: Source) -> None:
    raw = await collect(typed_events.encode_stream(source.events()))
    assert typed_terminals(raw) == ["error"]
    assert source.closed


@pytest.mark.parametrize("broken", [TextDelta, Finish])
async def test_openai_encoder_failure_ends_with_one_error_frame(broken: type) -> None:
    source = Source(TextDelta("a"), TextDelta("b"), Usage(1, 2), Finish("stop"))
    encoder = BrokenEncoder(model="m")
    encoder.broken = broken
    raw = await collect(encode_stream(source.events(), encoder))
    terminals = openai_terminals(raw)
    assert len(terminals) == 1 and json.loads(terminals[0])["error"]["code"] == "internal_error"
    assert source.closed


async def test_typed_encoder_failure_ends_with_one_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    real = typed_events._typed

    def broken(event: StreamEvent) -> tuple[str, dict[str, Any]]:
        if isinstance(event, TextDelta):
            raise ValueError("encoder bug")
        return real(event)

    monkeypatch.setattr(typed_events, "_typed", broken)
    source = Source(TextDelta("a"), Finish("stop"))
    raw = await collect(typed_events.encode_stream(source.events()))
    assert typed_terminals(raw) == ["error"]
    assert source.closed


async def test_a_clean_stream_is_untouched() -> None:
    source = Source(TextDelta("a"), Finish("stop"))
    raw = await collect(encode_stream(source.events(), ChunkEncoder(model="m")))
    assert openai_terminals(raw) == ["[DONE]"]
    raw = await collect(typed_events.encode_stream(Source(TextDelta("a"), StreamError("x", "y")).events()))
    assert typed_terminals(raw) == ["error"]


async def test_collecting_a_stream_whose_events_fail_is_a_relay_error() -> None:
    source = Source(TextDelta("a"), fail=RuntimeError("trace broke"))
    with pytest.raises(RelayError) as caught:
        await collect_completion(source.events(), "m")
    assert (caught.value.status, caught.value.code) == (500, "internal_error")
    assert "trace broke" not in caught.value.message
