"""The Azure Table replay log against Azurite: batches round-trip, cancels are seen, expired streams go."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from devtools.processes import free_port
from shared.resumable.settings import ResumableSettings, StreamTable
from shared.resumable.store import Batch, StreamRecord, StreamStoreUnavailable
from shared.resumable.table_store import TableStreamStore
from tests.azurite import Azurite

pytestmark = pytest.mark.anyio


def record(expires_in: float = 60) -> StreamRecord:
    return StreamRecord(owner="o", dialect="chat", beat=time.time(), expires=time.time() + expires_in)


@pytest.fixture
async def stores(azurite: Azurite) -> AsyncIterator[tuple[TableStreamStore, TableStreamStore]]:
    """Two stores on one fresh table: the generating instance and another."""
    table = StreamTable(table_name=f"streams{uuid.uuid4().hex[:10]}")
    environ = {"AzureWebJobsStorage": azurite.connection_string}
    # The first checks for a cancel on every batch, as if beat_seconds were nil.
    writer = TableStreamStore.build(ResumableSettings(table=table, beat_seconds=1e-9), environ)
    pair = (writer, TableStreamStore.build(ResumableSettings(table=table), environ))
    yield pair
    for store in pair:
        await store.aclose()


async def test_batches_round_trip_including_frames_longer_than_a_property(
    stores: tuple[TableStreamStore, TableStreamStore],
) -> None:
    _, writer = stores
    reader = writer
    huge = "data: " + "雨" * 40_000 + "\n\n"
    frames = (*(f"data: {index}\n\n" for index in range(5000)), huge)
    await writer.create("s", record())
    before = writer.operations
    await writer.append("s", Batch(1, frames[:10]), beat=time.time())
    await writer.append("s", Batch(11, frames[10:], final=True), beat=time.time())
    assert writer.operations - before == 2  # one call per batch: an upsert, or a transaction when it needs rows
    stored, read = await reader.read("s", 0)
    assert stored is not None and stored.done and stored.last == len(frames)
    assert tuple(read) == frames
    assert tuple((await reader.read("s", 4997))[1]) == frames[4997:]


async def test_a_cancel_from_another_instance_is_reported_to_the_writer(
    stores: tuple[TableStreamStore, TableStreamStore],
) -> None:
    writer, other = stores
    await writer.create("s", record())
    assert await writer.append("s", Batch(1, ("data: a\n\n",)), beat=time.time()) is False
    await other.cancel("s")
    assert await writer.append("s", Batch(2, ("data: b\n\n",)), beat=time.time()) is True
    stored, read = await other.read("s", 0)
    assert read == ["data: a\n\n", "data: b\n\n"]
    assert stored is not None and stored.cancel and stored.last == 2 and not stored.done


async def test_a_liveness_mark_rewrites_the_latest_row_with_a_new_beat(
    stores: tuple[TableStreamStore, TableStreamStore],
) -> None:
    writer, other = stores
    await writer.create("s", record())
    await writer.append("s", Batch(1, ()), beat=1000.0)  # waiting for the first token
    await writer.append("s", Batch(1, ("data: a\n\n", "data: b\n\n")), beat=1001.0)
    await writer.append("s", Batch(3, ()), beat=time.time() + 5)
    stored, read = await other.read("s", 1)
    assert read == ["data: b\n\n"]
    assert stored is not None and stored.last == 2 and stored.beat > time.time()
    await writer.append("s", Batch(3, (), final=True), beat=time.time())
    stored, read = await other.read("s", 2)
    assert read == [] and stored is not None and stored.done


async def test_unknown_and_expired_streams_read_as_none_and_cleanup_deletes_them(
    stores: tuple[TableStreamStore, TableStreamStore],
) -> None:
    store, _ = stores
    assert await store.read("nope", 0) == (None, [])
    await store.create("old", record(expires_in=-1))
    await store.append("old", Batch(1, ("data: a\n\n",)), beat=time.time())
    await store.create("new", record())
    assert await store.read("old", 0) == (None, [])
    assert await store.cleanup(time.time()) == 1
    assert await store.read("old", 0) == (None, [])
    assert (await store.read("new", 0))[0] is not None


async def test_an_unreachable_store_refuses_with_503() -> None:
    dead = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"TableEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    )
    store = TableStreamStore.build(ResumableSettings(), {"AzureWebJobsStorage": dead})
    with pytest.raises(StreamStoreUnavailable) as caught:
        await store.create("s", record())
    assert caught.value.status == 503
    await store.aclose()
