"""Generation, local and stored readers with the in-memory log: batching, wake-ups, caps and failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

import pytest

from shared.resumable.framing import CHAT, STORE_FAILED
from shared.resumable.generation import Generation
from shared.resumable.memory_store import MemoryStreamStore
from shared.resumable.reader import stored_stream
from shared.resumable.settings import ResumableSettings
from shared.resumable.store import Batch, StreamRecord, StreamStoreUnavailable
from tests.shared.resumable.sse_text import events_of

pytestmark = pytest.mark.anyio


async def frames(count: int, pause: float = 0.0) -> AsyncGenerator[bytes, None]:
    for index in range(count):
        yield f'data: {{"n":{index}}}\n\n'.encode()
        await asyncio.sleep(pause)
    yield b"data: [DONE]\n\n"


async def endless(closed: asyncio.Event) -> AsyncGenerator[bytes, None]:
    try:
        while True:
            yield b'data: {"n":0}\n\n'
            await asyncio.sleep(0.01)
    finally:
        closed.set()


def record() -> StreamRecord:
    return StreamRecord(owner="o", dialect=CHAT, beat=time.time(), expires=time.time() + 60)


async def started(
    store: MemoryStreamStore, chunks: AsyncGenerator[bytes, None], **settings: float | int
) -> tuple[Generation, asyncio.Task[None]]:
    await store.create("s", record())
    generation = Generation("s", record(), chunks, store, ResumableSettings(**settings))  # type: ignore[arg-type]
    return generation, asyncio.create_task(generation.run())


async def collect(generation: Generation, after: int = 0) -> list[str]:
    return [item[1] async for item in generation.follow(after, 10) if item is not None]


async def test_frames_are_written_in_batches_not_one_call_each() -> None:
    store = MemoryStreamStore()
    generation, task = await started(store, frames(200, pause=0.001), flush_seconds=0.1)
    read = await collect(generation)
    await task
    _, logged = await store.read("s", 0)
    assert logged == read and len(read) == 201
    assert store.operations < 20  # one create, a batch per 0.1 s, not 201 writes


class CountingStore(MemoryStreamStore):
    """Counts reads apart from the other calls."""

    reads = 0

    async def read(self, stream_id: str, after: int) -> tuple[StreamRecord | None, list[str]]:
        self.reads += 1
        return await super().read(stream_id, after)


async def test_local_readers_are_woken_without_reading_the_store() -> None:
    store = CountingStore()
    generation, task = await started(store, frames(20, pause=0.01), flush_seconds=5)
    read = await collect(generation, after=0)
    await task
    assert len(read) == 21
    assert store.reads == 0
    assert store.operations == 2  # the record, then the one batch as soon as the stream ended


async def test_no_reader_for_too_long_stops_generation_with_one_error() -> None:
    store, closed = MemoryStreamStore(), asyncio.Event()
    generation, task = await started(store, endless(closed), flush_seconds=0.05, max_detached_seconds=0.2)
    reader = generation.follow(0, 10)
    await anext(reader)
    await reader.aclose()  # the client leaves
    await asyncio.wait_for(task, 5)
    assert closed.is_set()
    _, logged = await store.read("s", 0)
    assert '"stream_detached_limit"' in logged[-1]
    assert sum('"error"' in frame for frame in logged) == 1


async def test_no_reader_for_too_many_events_stops_generation_too() -> None:
    store, closed = MemoryStreamStore(), asyncio.Event()
    settings = {"flush_seconds": 0.05, "max_detached_seconds": 60}
    generation, task = await started(store, endless(closed), max_detached_events=5, **settings)
    reader = generation.follow(0, 10)
    await anext(reader)
    await reader.aclose()
    await asyncio.wait_for(task, 5)
    _, logged = await store.read("s", 0)
    assert '"stream_detached_limit"' in logged[-1]
    assert 6 <= len(logged) <= 8  # the one read, five more, the terminal error (and one in flight)


class FailingStore(MemoryStreamStore):
    """A store that stops answering after its first batch."""

    async def append(self, stream_id: str, batch: Batch, beat: float) -> bool:
        if self.operations > 1:
            raise StreamStoreUnavailable("down")
        return await super().append(stream_id, batch, beat)


async def test_a_store_failure_mid_stream_ends_the_stream_with_an_error_event() -> None:
    store, closed = FailingStore(), asyncio.Event()
    generation, task = await started(store, endless(closed), flush_seconds=0.05)
    read = await asyncio.wait_for(collect(generation), 5)
    await task
    assert closed.is_set()
    assert f'"{STORE_FAILED.code}"' in read[-1]
    assert sum('"error"' in frame for frame in read) == 1


async def test_a_stored_reader_ends_with_stream_lost_when_the_record_stops_beating() -> None:
    store = MemoryStreamStore()
    stale = StreamRecord(owner="o", dialect=CHAT, beat=time.time(), expires=time.time() + 60)
    await store.create("s", stale)
    await store.append("s", Batch(1, ("data: a\n\n", "data: b\n\n")), beat=time.time())
    settings = ResumableSettings(poll_seconds=0.05, lost_after_seconds=0.3)
    first = await store.read("s", 1)
    assert first[0] is not None
    reader = stored_stream(store, "s", (first[0], first[1]), 1, settings, heartbeat_seconds=10)
    body = b"".join([chunk async for chunk in reader]).decode()
    events = events_of(body)
    assert [event.id for event in events] == [2, 3]
    assert events[0].data == "b" and events[1].json()["error"]["code"] == "stream_lost"
