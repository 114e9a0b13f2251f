"""The replay log in this process: resumes land on the same instance (local use, tests without Azurite)."""

from __future__ import annotations

import dataclasses
import time

from .store import DONE, Batch, StreamRecord


class MemoryStreamStore:
    """Records and frames in dictionaries; nothing survives the process."""

    def __init__(self) -> None:
        self._records: dict[str, StreamRecord] = {}
        self._frames: dict[str, list[str]] = {}
        self.operations = 0

    async def create(self, stream_id: str, record: StreamRecord) -> None:
        self.operations += 1
        self._records[stream_id] = record
        self._frames[stream_id] = []

    async def append(self, stream_id: str, batch: Batch, beat: float) -> bool:
        self.operations += 1
        record = self._records[stream_id]
        frames = self._frames[stream_id]
        frames.extend(batch.frames)
        status = DONE if batch.final else record.status
        self._records[stream_id] = dataclasses.replace(record, last=len(frames), beat=beat, status=status)
        return record.cancel

    async def read(self, stream_id: str, after: int) -> tuple[StreamRecord | None, list[str]]:
        self.operations += 1
        record = self._records.get(stream_id)
        if record is None or record.expires < time.time():
            return None, []
        return record, self._frames[stream_id][max(0, after) :]

    async def cancel(self, stream_id: str) -> None:
        self.operations += 1
        record = self._records.get(stream_id)
        if record is not None:
            self._records[stream_id] = dataclasses.replace(record, cancel=True)

    async def cleanup(self, now: float) -> int:
        expired = [stream_id for stream_id, record in self._records.items() if record.expires < now]
        for stream_id in expired:
            del self._records[stream_id], self._frames[stream_id]
        return len(expired)

    async def aclose(self) -> None:
        self._records.clear()
        self._frames.clear()
