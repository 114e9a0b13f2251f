"""The replay log in Azure Table Storage, shared by every instance of the app.

A stream is one partition. The row ``meta`` holds who may read it, its
dialect, its expiry and a cancel flag; each flushed batch of frames is a row
keyed by its last frame's number (``f0000000042``) that also carries the
liveness mark (``beat``) and whether it ends the stream. A flush is one
upsert, the cheapest call the SDK makes (a transaction costs it four times
the CPU); when the model is quiet the latest row is written again with a new
beat. "Every frame after n" is one range query from row ``f{n}`` on, which
also returns the record, the latest beat and the end.

The generating instance reads the record for a cancel at most once per
``beat_seconds``. Rows keep their frames as an ASCII JSON list, cut into
properties of at most ``ROW_CHARS`` characters so none nears Table's 64 KiB
limit. The synchronous SDK runs in worker threads, as the quota store's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from ..limits.table_store import service_client
from .settings import ResumableSettings
from .store import DONE, RUNNING, Batch, StreamRecord, StreamStoreUnavailable

logger = logging.getLogger(__name__)

META = "meta"
# Frame rows sort between "f" and "g"; "meta" sorts after them.
FRAME_PREFIX = "f"
FRAME_END = "g"
# JSON characters per property: Table strings are UTF-16, at most 64 KiB a property.
ROW_CHARS = 30_000
# Rows a delete transaction may hold.
ROWS_PER_TRANSACTION = 100

Row = dict[str, Any]


def frame_key(number: int) -> str:
    return f"{FRAME_PREFIX}{number:010d}"


class TableStreamStore:
    """Streams as partitions of one table; ``operations`` counts storage calls (for the benchmark)."""

    def __init__(self, table: TableClient, service: TableServiceClient | None = None, check_seconds: float = 2) -> None:
        self._table = table
        self._service = service
        self._check_seconds = check_seconds
        self._latest: dict[str, Row] = {}
        self._checked: dict[str, float] = {}
        self._created = False
        self.operations = 0

    @classmethod
    def build(cls, settings: ResumableSettings, environ: Mapping[str, str]) -> TableStreamStore:
        """A store on the account the connection setting names (a connection string or an identity)."""
        service = service_client(settings.table.connection_setting, environ)
        return cls(service.get_table_client(settings.table.table_name), service, settings.beat_seconds)

    async def create(self, stream_id: str, record: StreamRecord) -> None:
        await self._ensure_table()
        entity = {"PartitionKey": stream_id, "RowKey": META, **_record_fields(record)}
        await self._call(self._table.create_entity, entity)
        self._checked[stream_id] = time.monotonic()

    async def append(self, stream_id: str, batch: Batch, beat: float) -> bool:
        rows = _frame_rows(stream_id, batch) or [self._again(stream_id, batch)]
        rows[-1].update(beat=beat, final=batch.final)
        if len(rows) == 1:
            await self._call(self._table.upsert_entity, rows[0], mode=UpdateMode.REPLACE)
        else:
            await self._call(self._table.submit_transaction, [("upsert", row) for row in rows])
        self._latest[stream_id] = rows[-1]
        if batch.final:
            self._forget(stream_id)
            return False
        return await self._cancel_asked(stream_id)

    async def read(self, stream_id: str, after: int) -> tuple[StreamRecord | None, list[str]]:
        await self._ensure_table()
        query = "PartitionKey eq @pk and ( RowKey eq @meta or ( RowKey ge @from and RowKey lt @end ) )"
        parameters = {"pk": stream_id, "meta": META, "from": frame_key(after), "end": FRAME_END}
        entities = await self._call(lambda: list(self._table.query_entities(query, parameters=parameters)))
        meta = next((entity for entity in entities if entity["RowKey"] == META), None)
        if meta is None or float(meta["expires"]) < time.time():
            return None, []
        rows = sorted((entity for entity in entities if entity["RowKey"] != META), key=lambda row: str(row["RowKey"]))
        frames: list[str] = []
        for row in rows:
            frames += _frames_of(row)[max(0, after + 1 - int(row["first"])) :]
        return _record_of(meta, rows), frames

    async def cancel(self, stream_id: str) -> None:
        entity = {"PartitionKey": stream_id, "RowKey": META, "cancel": True}
        with contextlib.suppress(ResourceNotFoundError):
            await self._call(self._table.update_entity, entity, mode=UpdateMode.MERGE)

    async def cleanup(self, now: float) -> int:
        await self._ensure_table()
        query = "RowKey eq @meta and expires lt @now"
        parameters = {"meta": META, "now": now}
        expired = await self._call(
            lambda: [str(entity["PartitionKey"]) for entity in self._table.query_entities(query, parameters=parameters)]
        )
        for stream_id in expired:
            await self._delete_partition(stream_id)
        return len(expired)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._table.close)
        if self._service is not None:
            await asyncio.to_thread(self._service.close)

    def _again(self, stream_id: str, batch: Batch) -> Row:
        """The latest row once more (a liveness mark), or an empty first row when none was written yet."""
        latest = self._latest.get(stream_id)
        return dict(latest) if latest is not None else _row(stream_id, batch.first, [])

    async def _cancel_asked(self, stream_id: str) -> bool:
        """Whether a cancel was written on the record; read at most once per ``check_seconds``."""
        now = time.monotonic()
        if now - self._checked.get(stream_id, now) < self._check_seconds:
            return False
        self._checked[stream_id] = now
        try:
            entity = await self._call(self._table.get_entity, stream_id, META, select=["cancel"])
        except ResourceNotFoundError:
            raise StreamStoreUnavailable("the stream's record is gone from the store") from None
        return bool(entity.get("cancel", False))

    def _forget(self, stream_id: str) -> None:
        self._latest.pop(stream_id, None)
        self._checked.pop(stream_id, None)

    async def _delete_partition(self, stream_id: str) -> None:
        query = "PartitionKey eq @pk"
        keys = await self._call(
            lambda: [
                str(entity["RowKey"]) for entity in self._table.query_entities(query, parameters={"pk": stream_id})
            ]
        )
        for start in range(0, len(keys), ROWS_PER_TRANSACTION):
            deletes = [("delete", {"PartitionKey": stream_id, "RowKey": key}) for key in keys[start : start + 100]]
            with contextlib.suppress(TableTransactionError):
                await self._call(self._table.submit_transaction, deletes)

    async def _ensure_table(self) -> None:
        if self._created:
            return
        with contextlib.suppress(ResourceExistsError):
            await self._call(self._table.create_table)
        self._created = True

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One SDK call in a worker thread, counted; transport failures become a 503."""
        self.operations += 1
        try:
            return await asyncio.to_thread(method, *args, **kwargs)
        except (ResourceExistsError, ResourceNotFoundError, TableTransactionError):
            raise
        except AzureError as exc:
            logger.error("stream store call %s failed: %s", getattr(method, "__name__", "?"), type(exc).__name__)
            raise StreamStoreUnavailable("the stream store is unavailable; please retry", retry_after=1) from exc


def _frame_rows(stream_id: str, batch: Batch) -> list[Row]:
    """``batch`` as rows of at most ``ROW_CHARS`` JSON characters (more for one huge frame), each keyed by its last."""
    rows: list[Row] = []
    pending: list[str] = []
    first, size = batch.first, 2
    for number, frame in enumerate(batch.frames, start=batch.first):
        cost = len(json.dumps(frame)) + 1
        if pending and size + cost > ROW_CHARS:
            rows.append(_row(stream_id, first, pending))
            first, pending, size = number, [], 2
        pending.append(frame)
        size += cost
    if pending:
        rows.append(_row(stream_id, first, pending))
    return rows


def _row(stream_id: str, first: int, frames: list[str]) -> Row:
    """One row; a frame too long for one property (a huge tool-call chunk) is spread over several."""
    text = json.dumps(frames)
    parts = [text[start : start + ROW_CHARS] for start in range(0, len(text), ROW_CHARS)]
    last = first + len(frames) - 1
    row: Row = {"PartitionKey": stream_id, "RowKey": frame_key(last), "first": first, "last": last}
    row["parts"] = len(parts)
    row.update({f"frames{index}": part for index, part in enumerate(parts)})
    return row


def _frames_of(row: Mapping[str, Any]) -> list[str]:
    frames: list[str] = json.loads("".join(str(row[f"frames{index}"]) for index in range(int(row["parts"]))))
    return frames


def _record_fields(record: StreamRecord) -> Row:
    return {
        "owner": record.owner,
        "dialect": record.dialect,
        "beat": record.beat,
        "expires": record.expires,
        "cancel": record.cancel,
    }


def _record_of(meta: Mapping[str, Any], rows: list[Row]) -> StreamRecord:
    """The record, with how far the stream got, whether it ended and when it was last marked alive."""
    latest = rows[-1] if rows else None
    return StreamRecord(
        owner=str(meta["owner"]),
        dialect=str(meta["dialect"]),
        status=DONE if any(bool(row.get("final")) for row in rows) else RUNNING,
        last=int(latest["last"]) if latest else 0,
        beat=max([float(meta["beat"]), *(float(row.get("beat", 0)) for row in rows)]),
        expires=float(meta["expires"]),
        cancel=bool(meta.get("cancel", False)),
    )
