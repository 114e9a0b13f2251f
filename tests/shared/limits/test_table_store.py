"""The Table Storage quota store against Azurite: ETag-checked updates never lose one."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from devtools.processes import free_port
from shared.errors import TooManyRequests
from shared.limits import ledger
from shared.limits.settings import Quota
from shared.limits.settings import TableStore as TableSettings
from shared.limits.table_store import QuotaStoreUnavailable, TableStore, backoff, partition_key, service_client
from tests.azurite import Azurite


def store(azurite: Azurite, table: str) -> TableStore:
    return TableStore.build(TableSettings(table_name=table), {"AzureWebJobsStorage": azurite.connection_string})


@pytest.fixture
async def stores(azurite: Azurite) -> AsyncIterator[list[TableStore]]:
    """Three stores on one fresh table, as three app instances would have."""
    table = f"quotas{uuid.uuid4().hex[:10]}"
    opened = [store(azurite, table) for _ in range(3)]
    yield opened
    for each in opened:
        await each.aclose()


# One instant for every change in this module: with the real clock, a minute window that
# turned over mid-test reset the count, and 60 updates read back as 24.
NOW = time.time()


def count_one(state: ledger.Ledger) -> ledger.Ledger:
    return ledger.open_lease(state, Quota(requests_per_minute=10_000), None, ledger.Lease(0, 0), NOW)


@pytest.mark.anyio
async def test_a_ledger_round_trips(stores: list[TableStore]) -> None:
    changed = await stores[0].update("key:ci", count_one)
    assert await stores[1].read("key:ci") == changed
    assert await stores[1].read("key:nobody") == ledger.Ledger()


@pytest.mark.anyio
async def test_concurrent_updates_from_several_instances_are_never_lost(stores: list[TableStore]) -> None:
    await asyncio.gather(*(stores[index % 3].update("key:busy", count_one) for index in range(60)))
    assert (await stores[0].read("key:busy")).window_count == 60


@pytest.mark.anyio
async def test_a_refused_change_writes_nothing(stores: list[TableStore]) -> None:
    quota = Quota(requests_per_minute=1)

    def one_a_minute(state: ledger.Ledger) -> ledger.Ledger:
        return ledger.open_lease(state, quota, None, ledger.Lease(0, 0), NOW)

    await stores[0].update("key:slow", one_a_minute)
    with pytest.raises(TooManyRequests):
        await stores[1].update("key:slow", one_a_minute)
    assert (await stores[2].read("key:slow")).window_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("subject", ["entra:tenant/object", "key:a#b?c\\d", "easyauth:aad/üser", "x" * 300])
async def test_any_subject_makes_a_valid_key(stores: list[TableStore], subject: str) -> None:
    await stores[0].update(subject, count_one)
    assert (await stores[0].read(subject)).window_count == 1
    assert not set("/\\#?") & set(partition_key(subject))


@pytest.mark.anyio
async def test_an_unreachable_store_refuses_with_503() -> None:
    dead = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    unreachable = TableStore.build(TableSettings(), {"AzureWebJobsStorage": dead})
    with pytest.raises(QuotaStoreUnavailable) as caught:
        await unreachable.update("key:ci", count_one)
    assert caught.value.status == 503
    await unreachable.aclose()


def test_identity_based_connections_name_the_table_endpoint() -> None:
    by_account = service_client("AzureWebJobsStorage", {"AzureWebJobsStorage__accountName": "relayprod"})
    assert by_account.url.startswith("https://relayprod.table.core.windows.net")
    by_uri = service_client("Quotas", {"Quotas__tableServiceUri": "https://other.table.core.windows.net"})
    assert by_uri.url.startswith("https://other.table.core.windows.net")


def test_pauses_grow_but_stay_bounded() -> None:
    assert all(0 <= backoff(0) <= 0.005 for _ in range(100))
    assert all(0 <= backoff(20) <= 0.5 for _ in range(100))
    assert max(backoff(6) for _ in range(200)) > 0.05
