"""The events one upstream read completed go out in one write; a lone event goes out at once.

The source here plays an upstream body: each group of events is one
network read (a loop turn of waiting first), and ``ready`` says whether the
next event of the group is already decoded, as ``ChunkEvents.ready`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import anyio
import pytest

from shared.config import StreamSettings
from shared.dialects import responses, typed_events
from shared.dialects.openai_chat import ChunkEncoder, encode_stream
from shared.dialects.terminal import MAX_HELD, terminated
from shared.events import Finish, StreamError, StreamEvent, TextDelta, Usage
from shared.streaming.keepalive import Backlog, paced_events

pytestmark = pytest.mark.anyio

SETTINGS = StreamSettings(heartbeat_seconds=30, first_token_timeout_seconds=30, idle_timeout_seconds=30)


class Reads:
    """Groups of events, each delivered by one read; ``pulled`` counts what was taken."""

    def __init__(self, *groups: Sequence[StreamEvent], then_wait: bool = False) -> None:
        self.groups = [list(group) for group in groups]
        self.then_wait = then_wait
        self.pulled = 0
        self._left_in_read = 0

    def ready(self) -> bool:
        return self._left_in_read > 0

    def __aiter__(self) -> Reads:
        return self

    async def __anext__(self) -> StreamEvent:
        if not self._left_in_read:
            await asyncio.sleep(0)  # the network read
            if not self.groups:
                if self.then_wait:
                    await asyncio.Event().wait()
                raise StopAsyncIteration
            self._left_in_read = len(self.groups[0])
        self._left_in_read -= 1
        self.pulled += 1
        group = self.groups[0]
        event = group.pop(0)
        if not group:
            self.groups.pop(0)
        return event


def chat_encoder() -> ChunkEncoder:
    return ChunkEncoder(model="m", id="chatcmpl-1", created=1)


async def writes_of(reads: Reads, batched: bool = True) -> list[bytes]:
    """What the chat dialect writes for ``reads`` through the pacing stage, as the relay wires them."""
    backlog = Backlog(reads.ready) if batched else Backlog()
    paced = paced_events(reads, SETTINGS, backlog)
    return [chunk async for chunk in encode_stream(paced, chat_encoder(), backlog if batched else ())]


def frames(chunk: bytes) -> int:
    return chunk.count(b"\n\n")


def script() -> list[list[StreamEvent]]:
    return [[TextDelta("a"), TextDelta("b"), TextDelta("c")], [TextDelta("d")], [Usage(1, 4), Finish("stop")]]


async def test_the_events_of_one_read_go_out_in_one_write() -> None:
    writes = await writes_of(Reads(*script()))
    assert [frames(chunk) for chunk in writes] == [3, 1, 2]  # a b c | d | finish chunk + [DONE]


async def test_batched_bytes_are_the_unbatched_bytes_exactly() -> None:
    batched = await writes_of(Reads(*script()))
    one_by_one = await writes_of(Reads(*script()), batched=False)
    assert len(one_by_one) == 5
    assert b"".join(batched) == b"".join(one_by_one)


async def test_a_lone_event_is_written_without_waiting_for_more() -> None:
    backlog_reads = Reads([TextDelta("a")], then_wait=True)
    backlog = Backlog(backlog_reads.ready)
    chunks = encode_stream(paced_events(backlog_reads, SETTINGS, backlog), chat_encoder(), backlog)
    with anyio.fail_after(5):  # only a guard against a hang: the frame is due at once
        first = await anext(chunks)
    assert b'"content":"a"' in first and frames(first) == 1
    await chunks.aclose()


async def test_one_write_holds_at_most_max_held_frames() -> None:
    deltas = [TextDelta(str(n)) for n in range(2 * MAX_HELD + 10)]
    writes = await writes_of(Reads([*deltas, Finish("stop")]))
    assert [frames(chunk) for chunk in writes] == [MAX_HELD, MAX_HELD, 10 + 2]


async def test_the_pacing_reader_reads_on_only_while_the_source_is_ready() -> None:
    reads = Reads([TextDelta("a"), TextDelta("b")], [TextDelta("c")], [Finish("stop")])
    backlog = Backlog(reads.ready)
    paced = paced_events(reads, SETTINGS, backlog)
    assert await anext(paced) == TextDelta("a")
    assert (len(backlog), reads.pulled) == (1, 2)  # b is held; c, a later read, was not asked for
    assert await anext(paced) == TextDelta("b")
    assert (len(backlog), reads.pulled) == (0, 2)
    await paced.aclose()


async def failing(*events: StreamEvent) -> AsyncGenerator[StreamEvent, None]:
    for event in events:
        yield event
    raise RuntimeError("a stage broke")


async def test_held_frames_go_out_ahead_of_the_error_frame() -> None:
    always_more = [None]
    encoder = chat_encoder()
    events = failing(TextDelta("a"), TextDelta("b"))
    chunks = terminated(events, encoder.encode, lambda _: b"data: {error}\n\n", always_more)
    writes = [chunk async for chunk in chunks]
    assert len(writes) == 1
    assert writes[0].index(b'"content":"a"') < writes[0].index(b'"content":"b"') < writes[0].index(b"data: {error}")


async def test_a_truncated_stream_ends_with_its_held_frames_and_one_error() -> None:
    async def truncated() -> AsyncGenerator[StreamEvent, None]:
        yield TextDelta("a")

    encoder = chat_encoder()
    writes = [chunk async for chunk in terminated(truncated(), encoder.encode, lambda _: b"data: {error}\n\n", [None])]
    assert len(writes) == 1 and writes[0].endswith(b"data: {error}\n\n") and b'"content":"a"' in writes[0]


async def test_typed_and_responses_dialects_batch_too() -> None:
    reads = Reads(*script())
    backlog = Backlog(reads.ready)
    typed = [chunk async for chunk in typed_events.encode_stream(paced_events(reads, SETTINGS, backlog), backlog)]
    assert len(typed) == 3
    reads = Reads(*script())
    backlog = Backlog(reads.ready)
    builder = responses.ResponseBuilder(model="m")
    paced = paced_events(reads, SETTINGS, backlog)
    answer = [chunk async for chunk in responses.encode_stream(paced, builder, backlog)]
    assert len(answer) == 3


async def test_an_error_event_is_never_held() -> None:
    reads = Reads([TextDelta("a"), StreamError("upstream_error", "broke", retryable=True), TextDelta("late")])
    writes = await writes_of(reads)
    assert len(writes) == 1 and b"broke" in writes[0] and b"late" not in writes[0]
