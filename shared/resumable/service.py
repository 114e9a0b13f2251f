"""Resumable streams for one process: start, resume and cancel, with the owner check.

A stream belongs to the identity that opened it: resume and cancel compare
a digest of the caller's subject with the record's, and a stranger is told
the stream does not exist, so ids cannot be probed. Streams this process is
generating are served from memory; others from the store. Expired streams
are swept, at most once per ``ttl_seconds / 4``, when a new stream starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Coroutine, Mapping
from typing import Any, Final, Literal

from ..config import StreamSettings
from .framing import CANCELLED
from .generation import Generation
from .memory_store import MemoryStreamStore
from .reader import local_stream, stored_stream
from .settings import ResumableSettings
from .store import StreamRecord, StreamStore, new_stream_id, owner_of
from .table_store import TableStreamStore

logger = logging.getLogger(__name__)

Chunks = AsyncGenerator[bytes, None]
ENDED: Final = "ended"
# Reading after this number returns the record alone.
NO_FRAMES = 9_999_999_999


class ResumableStreams:
    """The process's resumable streams and the store they are logged in."""

    def __init__(self, settings: ResumableSettings, store: StreamStore, heartbeat_seconds: float) -> None:
        self.settings = settings
        self.store = store
        self._heartbeat = heartbeat_seconds
        self._running: dict[str, Generation] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._swept_at = 0.0

    @classmethod
    def build(cls, settings: ResumableSettings, stream: StreamSettings, environ: Mapping[str, str]) -> ResumableStreams:
        store: StreamStore = (
            TableStreamStore.build(settings, environ) if settings.store == "table" else MemoryStreamStore()
        )
        return cls(settings, store, stream.heartbeat_seconds)

    async def start(self, subject: str, dialect: str, chunks: Chunks) -> tuple[str, Chunks]:
        """Log ``chunks`` under a new id, generating to the end; the id and the opener's own reader.

        Raises :class:`~.store.StreamStoreUnavailable` before anything is
        generated if the record cannot be written.
        """
        stream_id, now = new_stream_id(), time.time()
        record = StreamRecord(
            owner=owner_of(subject), dialect=dialect, beat=now, expires=now + self.settings.ttl_seconds
        )
        await self.store.create(stream_id, record)
        generation = Generation(stream_id, record, chunks, self.store, self.settings)
        self._running[stream_id] = generation
        self._spawn(self._generate(generation))
        self._sweep(now)
        return stream_id, local_stream(generation, 0, self._heartbeat)

    async def resume(self, subject: str, stream_id: str, after: int) -> Chunks | Literal["ended"] | None:
        """The stream's events after number ``after``; ``ENDED`` if it has none left; None if not the caller's.

        ``ENDED`` is answered with 204, which tells an ``EventSource`` that
        reconnects after the last event to stop reconnecting.
        """
        owner = owner_of(subject)
        generation = self._running.get(stream_id)
        if generation is not None:
            if generation.record.owner != owner:
                return None
            if generation.finished and after >= len(generation.frames):
                return ENDED
            return local_stream(generation, after, self._heartbeat)
        record, frames = await self.store.read(stream_id, after)
        if record is None or record.owner != owner:
            return None
        if record.done and after >= record.last:
            return ENDED
        return stored_stream(self.store, stream_id, (record, frames), after, self.settings, self._heartbeat)

    async def cancel(self, subject: str, stream_id: str) -> bool:
        """Stop the stream's generation, wherever it runs; False if the caller has no such stream."""
        owner = owner_of(subject)
        generation = self._running.get(stream_id)
        if generation is not None:
            if generation.record.owner != owner:
                return False
            generation.stop(CANCELLED)
            return True
        record, _ = await self.store.read(stream_id, NO_FRAMES)
        if record is None or record.owner != owner:
            return False
        if not record.done:
            await self.store.cancel(stream_id)
        return True

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.aclose()

    async def _generate(self, generation: Generation) -> None:
        try:
            await generation.run()
        except Exception:
            logger.exception("resumable stream: generation failed")
        finally:
            self._running.pop(generation.stream_id, None)

    def _sweep(self, now: float) -> None:
        if now - self._swept_at < self.settings.ttl_seconds / 4:
            return
        self._swept_at = now
        self._spawn(self._cleanup(now))

    async def _cleanup(self, now: float) -> None:
        try:
            await self.store.cleanup(now)
        except Exception:
            logger.warning("resumable streams: expired streams could not be swept this time")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
