"""The replay log's contract, kept by an in-memory store (one instance) or Azure Table (every instance).

A stream is one record and its frames, numbered from 1. The generating
instance :meth:`~StreamStore.append`\\ s a batch of frames and marks the
record alive in the same call; readers :meth:`~StreamStore.read` what follows
the last frame they sent. Frames are the dialect's SSE bytes without ``id:``
(readers add it), so a resume answers in the original dialect.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from ..errors import RelayError

RUNNING = "running"
DONE = "done"
# 192 bits from the system's CSPRNG, URL-safe: unguessable and short enough for a header.
ID_BYTES = 24


class StreamStoreUnavailable(RelayError):
    """The replay log cannot be reached: the opt-in is refused, or the stream ends with an error."""

    status = 503
    code = "stream_store_unavailable"
    retryable = True


def new_stream_id() -> str:
    """An unguessable stream id (192 random bits)."""
    return secrets.token_urlsafe(ID_BYTES)


def owner_of(subject: str) -> str:
    """What the log keeps of the caller: a digest, so a stored record names nobody."""
    return hashlib.sha256(subject.encode()).hexdigest()


@dataclass(frozen=True)
class StreamRecord:
    """One stream's state: who may read it, in which dialect, how far it got and when it was last alive."""

    owner: str
    dialect: str
    status: str = RUNNING
    last: int = 0
    beat: float = 0.0
    expires: float = 0.0
    cancel: bool = False

    @property
    def done(self) -> bool:
        return self.status == DONE


@dataclass(frozen=True)
class Batch:
    """Frames ``first`` .. ``first + len(frames) - 1``, and whether the last of them ends the stream."""

    first: int
    frames: tuple[str, ...]
    final: bool = False

    @property
    def last(self) -> int:
        return self.first + len(self.frames) - 1


class StreamStore(Protocol):
    """Where resumable streams are logged; every failure to reach it is :class:`StreamStoreUnavailable`."""

    async def create(self, stream_id: str, record: StreamRecord) -> None:
        """Start a stream's record."""

    async def append(self, stream_id: str, batch: Batch, beat: float) -> bool:
        """Log ``batch`` (possibly empty: a liveness mark); True if a cancel was asked for meanwhile."""

    async def read(self, stream_id: str, after: int) -> tuple[StreamRecord | None, list[str]]:
        """The record (None if unknown or expired) and every frame after number ``after``, in order."""

    async def cancel(self, stream_id: str) -> None:
        """Ask the generating instance to stop."""

    async def cleanup(self, now: float) -> int:
        """Delete streams that expired before ``now``; how many."""

    async def aclose(self) -> None:
        """Release the store's clients."""
