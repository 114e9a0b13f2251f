"""A resumed stream's bytes: replay what the log holds after the client's last event, then follow it live.

On the generating instance the reader follows the :class:`Generation` in
memory and is woken by it. Anywhere else it reads the store every
``poll_seconds`` (one query returns the record and the new frames), and ends
with a ``stream_lost`` error event once the record has not been marked alive
for ``lost_after_seconds``: a dead instance never leaves a reader hanging.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

from ..dialects.sse import HEARTBEAT
from .framing import LOST, STORE_FAILED, error_frame, numbered
from .generation import Generation
from .settings import ResumableSettings
from .store import StreamRecord, StreamStore, StreamStoreUnavailable


async def local_stream(generation: Generation, after: int, heartbeat_seconds: float) -> AsyncGenerator[bytes, None]:
    """Frames after ``after`` from this instance's generation; heartbeat comments while it is quiet."""
    async for item in generation.follow(after, heartbeat_seconds):
        yield HEARTBEAT if item is None else numbered(*item)


async def stored_stream(
    store: StreamStore,
    stream_id: str,
    first_read: tuple[StreamRecord, list[str]],
    after: int,
    settings: ResumableSettings,
    heartbeat_seconds: float,
) -> AsyncGenerator[bytes, None]:
    """Frames after ``after`` from the store, polled at a bounded rate, until the terminal event."""
    record, frames = first_read
    sent, quiet_since = after, time.monotonic()
    while True:
        for frame in frames:
            sent += 1
            yield numbered(sent, frame)
            quiet_since = time.monotonic()
        if record.done and sent >= record.last:
            return
        if time.time() - record.beat > settings.lost_after_seconds:
            yield numbered(sent + 1, error_frame(record.dialect, LOST, sent + 1))
            return
        await asyncio.sleep(settings.poll_seconds)
        if time.monotonic() - quiet_since >= heartbeat_seconds:
            yield HEARTBEAT
            quiet_since = time.monotonic()
        try:
            latest, frames = await store.read(stream_id, sent)
        except StreamStoreUnavailable:
            yield numbered(sent + 1, error_frame(record.dialect, STORE_FAILED, sent + 1))
            return
        if latest is None:
            yield numbered(sent + 1, error_frame(record.dialect, LOST, sent + 1))
            return
        record = latest
