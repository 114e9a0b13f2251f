"""One resumable stream being generated in this process, whoever is reading it.

The dialect's bytes are read to the end in a task of their own, so the
upstream outlives the client's connection (up to ``max_detached_seconds``, or
``max_detached_events`` more events, after the last local reader left). Frames are kept in memory for readers on
this instance, who are woken by an event, never by polling, and written to
the store in batches, one call per ``flush_seconds``; when nothing new comes
the record is still marked alive every ``beat_seconds``, so readers elsewhere
can tell a quiet model from a dead instance. A cancel (here, or seen as a
lost race on the record) stops the upstream and ends the log with one
terminal error event, as does a store that stops answering: the relay never
stops recording silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator

from ..events import StreamError
from ..streaming.cancellation import close_shielded
from .framing import CANCELLED, DETACHED, STORE_FAILED, error_frame, frames_of
from .settings import ResumableSettings
from .store import Batch, StreamRecord, StreamStore, StreamStoreUnavailable

logger = logging.getLogger(__name__)


class Generation:
    """Reads one stream's bytes to the end, logging them and waking this instance's readers."""

    def __init__(
        self,
        stream_id: str,
        record: StreamRecord,
        chunks: AsyncGenerator[bytes, None],
        store: StreamStore,
        settings: ResumableSettings,
    ) -> None:
        self.stream_id = stream_id
        self.record = record
        self.frames: list[str] = []
        self.finished = False
        self._chunks = chunks
        self._store = store
        self._settings = settings
        self._changed = asyncio.Event()
        self._stop_reason: StreamError | None = None
        self._pump: asyncio.Task[None] | None = None
        self._readers = 0
        self._detached: asyncio.TimerHandle | None = None
        self._detached_at: int | None = None

    async def run(self) -> None:
        """Generate and log until the terminal event is stored (or the store fails)."""
        self._pump = asyncio.create_task(self._read_upstream())
        try:
            await self._log()
        except StreamStoreUnavailable:
            logger.error("resumable stream: the store failed; ending the stream with an error")
            self.stop(STORE_FAILED)
        finally:
            if not self._pump.done():
                self.stop(CANCELLED)
            await asyncio.wait({self._pump})
            if self._detached is not None:
                self._detached.cancel()

    def stop(self, reason: StreamError) -> None:
        """End generation with ``reason`` as the terminal event, unless it already ended."""
        if self.finished or self._pump is None or self._pump.done():
            return
        self._stop_reason = self._stop_reason or reason
        self._pump.cancel()

    async def follow(self, after: int, heartbeat_seconds: float) -> AsyncIterator[tuple[int, str] | None]:
        """Frames after number ``after`` as they come, with None for each heartbeat-long silence."""
        self._attach()
        try:
            sent = after
            while True:
                changed = self._changed
                while sent < len(self.frames):
                    sent += 1
                    yield sent, self.frames[sent - 1]
                if self.finished:
                    return
                try:
                    await asyncio.wait_for(changed.wait(), heartbeat_seconds)
                except TimeoutError:
                    yield None
        finally:
            self._detach()

    async def _read_upstream(self) -> None:
        try:
            async for chunk in self._chunks:
                self._add(frames_of(chunk))
        except asyncio.CancelledError:
            await close_shielded(self._chunks.aclose())
            self._add([error_frame(self.record.dialect, self._stop_reason or CANCELLED, len(self.frames) + 1)])
        finally:
            self.finished = True
            self._wake()

    async def _log(self) -> None:
        """Write new frames each ``flush_seconds``, a liveness mark each ``beat_seconds``, the last batch at once."""
        flushed, beat_at = 0, time.monotonic()
        while True:
            if not self.finished:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_finished(), self._settings.flush_seconds)
            finished = self.finished
            pending = tuple(self.frames[flushed:])
            if not pending and not finished and time.monotonic() - beat_at < self._settings.beat_seconds:
                continue
            batch = Batch(first=flushed + 1, frames=pending, final=finished)
            cancelled = await self._store.append(self.stream_id, batch, beat=time.time())
            flushed, beat_at = flushed + len(pending), time.monotonic()
            if finished:
                return
            if cancelled:
                self.stop(CANCELLED)

    async def _wait_finished(self) -> None:
        while not self.finished:
            await self._changed.wait()

    def _add(self, frames: list[str]) -> None:
        if frames:
            self.frames.extend(frames)
            self._wake()
            cap = self._settings.max_detached_events
            if cap is not None and self._detached_at is not None and len(self.frames) - self._detached_at >= cap:
                self.stop(DETACHED)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _attach(self) -> None:
        self._readers += 1
        self._detached_at = None
        if self._detached is not None:
            self._detached.cancel()
            self._detached = None

    def _detach(self) -> None:
        self._readers -= 1
        if self._readers == 0 and not self.finished:
            self._detached_at = len(self.frames)
            loop = asyncio.get_running_loop()
            self._detached = loop.call_later(self._settings.max_detached_seconds, self.stop, DETACHED)
