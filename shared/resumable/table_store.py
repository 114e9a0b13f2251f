"""The replay log in Azure Table Storage, shared by every instance of the app.

A stream is one partition: the record is the row ``meta``, and each batch of
frames is a row keyed by its last frame's number (``f0000000042``), so "every
frame after n" is one range query that also returns the record. A batch and
the record's liveness mark are written in one entity-group transaction, one
storage operation per flush. The record is updated with ``If-Match``: the only
other writer is a cancel, so a lost race means "stop", learnt at no extra cost.

Rows keep their frames as an ASCII JSON list, cut into properties of at most
``ROW_CHARS`` characters so none nears Table's 64 KiB limit. The synchronous
SDK runs in worker threads, as the quota store's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from ..limits.table_store import service_client
from .settings import StreamTable
from .store import DONE, Batch, StreamRecord, StreamStoreUnavailable

logger = logging.getLogger(__name__)

META = "meta"
# Frame rows sort between "f" and "g"; "meta" sorts after them.
FRAME_PREFIX = "f"
FRAME_END = "g"
# JSON characters per row: Table strings are UTF-16, at most 64 KiB a property.
ROW_CHARS = 30_000
# An entity-group transaction holds at most 100 operations; one is the record.
ROWS_PER_TRANSACTION = 99


def frame_key(number: int) -> str:
    return f"{FRAME_PREFIX}{number:010d}"


class TableStreamStore:
    """Streams as partitions of one table; ``operations`` counts storage calls (for the benchmark)."""

    def __init__(self, table: TableClient, service: TableServiceClient | None = None) -> None:
        self._table = table
        self._service = service
        self._etags: dict[str, str] = {}
        self._created = False
        self.operations = 0

    @classmethod
    def build(cls, settings: StreamTable, environ: Mapping[str, str]) -> TableStreamStore:
        """A store on the account the connection setting names (a connection string or an identity)."""
        service = service_client(settings.connection_setting, environ)
        return cls(service.get_table_client(settings.table_name), service)

    async def create(self, stream_id: str, record: StreamRecord) -> None:
        await self._ensure_table()
        entity = {"PartitionKey": stream_id, "RowKey": META, **_record_fields(record)}
        metadata = await self._call(self._table.create_entity, entity)
        self._etags[stream_id] = str(metadata["etag"])

    async def append(self, stream_id: str, batch: Batch, beat: float) -> bool:
        rows = _frame_rows(stream_id, batch)
        update: dict[str, Any] = {"PartitionKey": stream_id, "RowKey": META, "last": batch.last, "beat": beat}
        if batch.final:
            update["status"] = DONE
        for start in range(0, max(1, len(rows)), ROWS_PER_TRANSACTION):
            chunk = rows[start : start + ROWS_PER_TRANSACTION]
            cancelled = await self._transact(stream_id, chunk, update)
        if batch.final:
            self._etags.pop(stream_id, None)
        return cancelled

    async def read(self, stream_id: str, after: int) -> tuple[StreamRecord | None, list[str]]:
        await self._ensure_table()
        query = "PartitionKey eq @pk and ( RowKey eq @meta or ( RowKey gt @after and RowKey lt @end ) )"
        parameters = {"pk": stream_id, "meta": META, "after": frame_key(after), "end": FRAME_END}
        entities = await self._call(lambda: list(self._table.query_entities(query, parameters=parameters)))
        record: StreamRecord | None = None
        frames: list[str] = []
        for entity in sorted(entities, key=lambda entity: str(entity["RowKey"])):
            if entity["RowKey"] == META:
                record = _record_of(entity)
                continue
            first = int(entity["first"])
            frames += _frames_of(entity)[max(0, after + 1 - first) :]
        if record is None or record.expires < time.time():
            return None, []
        return record, frames

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

    async def _transact(self, stream_id: str, rows: list[dict[str, Any]], update: dict[str, Any]) -> bool:
        """Write ``rows`` and the record; on a lost race (a cancel wrote the record), once more, and say so."""
        cancelled = False
        for _ in range(2):
            etag = self._etags.get(stream_id)
            options: dict[str, Any] = {"mode": UpdateMode.MERGE}
            if etag is not None:
                options.update(etag=etag, match_condition=MatchConditions.IfNotModified)
            operations: list[Any] = [("upsert", row) for row in rows] + [("update", update, options)]
            try:
                results = await self._call(self._table.submit_transaction, operations)
            except TableTransactionError:
                record = await self._refresh(stream_id)
                if record is None:
                    raise StreamStoreUnavailable("the stream's record is gone from the store") from None
                cancelled = cancelled or record.cancel
                continue
            self._etags[stream_id] = str(results[-1]["etag"])
            return cancelled
        raise StreamStoreUnavailable("the stream store refused the stream's batch; please retry", retry_after=1)

    async def _refresh(self, stream_id: str) -> StreamRecord | None:
        try:
            entity = await self._call(self._table.get_entity, stream_id, META)
        except ResourceNotFoundError:
            return None
        self._etags[stream_id] = str(entity.metadata["etag"])
        return _record_of(entity)

    async def _delete_partition(self, stream_id: str) -> None:
        query = "PartitionKey eq @pk"
        keys = await self._call(
            lambda: [
                str(entity["RowKey"]) for entity in self._table.query_entities(query, parameters={"pk": stream_id})
            ]
        )
        for start in range(0, len(keys), 100):
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


def _frame_rows(stream_id: str, batch: Batch) -> list[dict[str, Any]]:
    """``batch`` as rows of at most ``ROW_CHARS`` JSON characters, each keyed by its last frame."""
    rows: list[dict[str, Any]] = []
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


def _row(stream_id: str, first: int, frames: list[str]) -> dict[str, Any]:
    """One row; a frame too long for one property (a huge tool-call chunk) is spread over several."""
    text = json.dumps(frames)
    parts = [text[start : start + ROW_CHARS] for start in range(0, len(text), ROW_CHARS)]
    row: dict[str, Any] = {"PartitionKey": stream_id, "RowKey": frame_key(first + len(frames) - 1), "first": first}
    row["parts"] = len(parts)
    row.update({f"frames{index}": part for index, part in enumerate(parts)})
    return row


def _frames_of(row: Mapping[str, Any]) -> list[str]:
    frames: list[str] = json.loads("".join(str(row[f"frames{index}"]) for index in range(int(row["parts"]))))
    return frames


def _record_fields(record: StreamRecord) -> dict[str, Any]:
    return {
        "owner": record.owner,
        "dialect": record.dialect,
        "status": record.status,
        "last": record.last,
        "beat": record.beat,
        "expires": record.expires,
        "cancel": record.cancel,
    }


def _record_of(entity: Mapping[str, Any]) -> StreamRecord:
    return StreamRecord(
        owner=str(entity["owner"]),
        dialect=str(entity["dialect"]),
        status=str(entity["status"]),
        last=int(entity["last"]),
        beat=float(entity["beat"]),
        expires=float(entity["expires"]),
        cancel=bool(entity.get("cancel", False)),
    )
