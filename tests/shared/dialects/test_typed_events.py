"""The typed-event dialect, event by event, and its request body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from shared.chat_request import parse_simple_chat_request
from shared.dialects.sse import HEARTBEAT
from shared.dialects.typed_events import encode_event, encode_stream, error_event
from shared.errors import InvalidRequest
from shared.events import Finish, Heartbeat, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage


def parse(frame: bytes) -> tuple[str, dict[str, object]]:
    event_line, data_line, *_ = frame.decode().split("\n")
    assert frame.endswith(b"\n\n")
    return event_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))


@pytest.mark.parametrize(
    ("event", "name", "data"),
    [
        (TextDelta("東京🍣"), "text_delta", {"content": "東京🍣"}),
        (ReasoningDelta("hmm"), "thinking", {"content": "hmm"}),
        (
            ReasoningDelta("", signature="c2ln", provider="bedrock"),
            "thinking",
            {"content": "", "signature": "c2ln", "provider": "bedrock"},
        ),
        (
            ReasoningDelta("", redacted="cmVk", provider="bedrock"),
            "thinking",
            {"content": "", "redacted": "cmVk", "provider": "bedrock"},
        ),
        (
            ToolCallDelta(0, "c1", "f", "", signature="Z3N"),
            "tool_call",
            {"index": 0, "id": "c1", "name": "f", "arguments_delta": "", "signature": "Z3N"},
        ),
        (ToolCallDelta(1, "c1", "f", "{"), "tool_call", {"index": 1, "id": "c1", "name": "f", "arguments_delta": "{"}),
        (
            Usage(2, 3, cached_tokens=1, reasoning_tokens=2),
            "usage",
            {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5, "cached_tokens": 1, "reasoning_tokens": 2},
        ),
        (Finish("length"), "done", {"finish_reason": "length"}),
        (StreamError("x", "boom", True), "error", {"code": "x", "message": "boom", "retryable": True}),
    ],
)
def test_each_event_has_its_type(event: object, name: str, data: dict[str, object]) -> None:
    assert parse(encode_event(event)) == (name, data)  # type: ignore[arg-type]


def test_japanese_travels_as_utf8() -> None:
    assert "東京".encode() in encode_event(TextDelta("東京"))


def test_prompt_becomes_one_user_message() -> None:
    request = parse_simple_chat_request(b'{"model": "azure", "prompt": "hi", "max_tokens": 5}')
    assert [(m.role, m.content) for m in request.messages] == [("user", "hi")]
    assert request.stream and request.include_usage and request.max_tokens == 5


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"model": "azure"}', "exactly one of messages or prompt"),
        (b'{"model": "azure", "prompt": "a", "messages": [{"role": "user", "content": "b"}]}', "exactly one"),
        (b'{"model": "azure", "prompt": "a", "top_k": 3}', "top_k"),
        (b'{"model": "azure", "prompt": 3}', "prompt"),
        (b"[1]", "JSON object"),
    ],
)
def test_bad_bodies_are_named(body: bytes, fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=fragment):
        parse_simple_chat_request(body)


@pytest.mark.anyio
async def test_heartbeats_are_written_in_place() -> None:
    async def events() -> AsyncIterator[StreamEvent]:
        yield TextDelta("a")
        yield Heartbeat()
        yield Finish("stop")

    frames = [frame async for frame in encode_stream(events())]
    assert frames[1] == HEARTBEAT
    assert [parse(frames[0])[0], parse(frames[2])[0]] == ["text_delta", "done"]


def test_an_error_carries_the_upstream_retry_hint() -> None:
    frame = error_event(StreamError("rate_limit_exceeded", "slow down", retryable=True, retry_after=2.5))
    assert parse(frame) == (
        "error",
        {"code": "rate_limit_exceeded", "message": "slow down", "retryable": True, "retry_after": 2.5},
    )


async def frames_of(*items: StreamEvent) -> list[tuple[str, dict[str, object]]]:
    async def events() -> AsyncIterator[StreamEvent]:
        for item in items:
            yield item

    raw = b"".join([frame async for frame in encode_stream(events())])
    return [parse(block + b"\n\n") for block in raw.split(b"\n\n") if block]


@pytest.mark.anyio
async def test_usage_reported_mid_stream_is_written_after_the_last_delta() -> None:
    frames = await frames_of(TextDelta("a"), Usage(2, 3), TextDelta("b"), Finish("stop"))
    assert [name for name, _ in frames] == ["text_delta", "text_delta", "usage", "done"]
    assert frames[2][1] == {
        "prompt_tokens": 2,
        "completion_tokens": 3,
        "total_tokens": 5,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }


@pytest.mark.anyio
async def test_held_usage_still_precedes_an_error() -> None:
    frames = await frames_of(Usage(1, 1), TextDelta("a"), StreamError("upstream_error", "gone", retryable=True))
    assert [name for name, _ in frames] == ["text_delta", "usage", "error"]


@pytest.mark.anyio
async def test_held_usage_precedes_the_error_for_a_stream_that_stops_short() -> None:
    frames = await frames_of(TextDelta("a"), Usage(1, 1))
    assert [name for name, _ in frames] == ["text_delta", "usage", "error"]
    assert frames[-1][1]["code"] == "relay_truncated"
