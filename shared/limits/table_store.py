"""Quota ledgers in Azure Table Storage, shared by every instance of the app.

Each client's ledger is one entity (partition: the client, row: ``quota``)
holding the ledger as JSON. Updates use optimistic concurrency: read the
entity and its ETag, apply the change, write with ``If-Match``; if another
instance wrote first the write fails (412, or 409 for a first insert) and the
update starts again from a fresh read, after a random pause that grows with
each lost race. No update is ever lost, and no lock outlives a request.

The synchronous SDK runs in worker threads, so no storage call blocks the
event loop (the async SDK would need aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from ..errors import ConfigError, RelayError
from .ledger import Ledger
from .settings import TableStore as TableStoreSettings
from .store import Change

logger = logging.getLogger(__name__)

ROW_KEY = "quota"
MAX_ATTEMPTS = 100
FIRST_PAUSE_SECONDS = 0.005
MAX_PAUSE_SECONDS = 0.5
ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")


class QuotaStoreUnavailable(RelayError):
    """The shared quota store cannot be reached; requests are refused rather than let through."""

    status = 503
    code = "quota_store_unavailable"
    retryable = True


class TableStore:
    """Ledgers as entities in one table, updated with ETags."""

    def __init__(self, table: TableClient, service: TableServiceClient | None = None) -> None:
        self._table = table
        self._service = service
        self._created = False

    @classmethod
    def build(cls, settings: TableStoreSettings, environ: Mapping[str, str]) -> TableStore:
        """A store on the account the connection setting names (a connection string or an identity)."""
        service = service_client(settings.connection_setting, environ)
        return cls(service.get_table_client(settings.table_name), service)

    async def update(self, subject: str, change: Change) -> Ledger:
        await self._ensure_table()
        key = partition_key(subject)
        for attempt in range(MAX_ATTEMPTS):
            ledger, etag = await self._read(key)
            changed = change(ledger)
            if await self._write(key, changed, etag):
                return changed
            await asyncio.sleep(backoff(attempt))
        logger.error("quota ledger of %s: gave up after %d conflicting writes", subject, MAX_ATTEMPTS)
        raise QuotaStoreUnavailable("the quota store is too busy; please retry", retry_after=1)

    async def read(self, subject: str) -> Ledger:
        await self._ensure_table()
        ledger, _ = await self._read(partition_key(subject))
        return ledger

    async def aclose(self) -> None:
        await asyncio.to_thread(self._table.close)
        if self._service is not None:
            await asyncio.to_thread(self._service.close)

    async def _read(self, key: str) -> tuple[Ledger, str | None]:
        try:
            entity = await _call(self._table.get_entity, key, ROW_KEY)
        except ResourceNotFoundError:
            return Ledger(), None
        return Ledger.from_json(str(entity["ledger"])), str(entity.metadata["etag"])

    async def _write(self, key: str, ledger: Ledger, etag: str | None) -> bool:
        """Write if nobody wrote since ``etag`` was read; False when someone did."""
        entity = {"PartitionKey": key, "RowKey": ROW_KEY, "ledger": ledger.to_json()}
        try:
            if etag is None:
                await _call(self._table.create_entity, entity)
            else:
                await _call(
                    self._table.update_entity,
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        return True

    async def _ensure_table(self) -> None:
        if self._created:
            return
        with contextlib.suppress(ResourceExistsError):
            await _call(self._table.create_table)
        self._created = True


def backoff(attempt: int) -> float:
    """A random pause that grows with each lost race ("full jitter"), so contenders spread out."""
    return random.uniform(0, min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**attempt))


def service_client(setting: str, environ: Mapping[str, str]) -> TableServiceClient:
    """A connection string in ``setting``, or the identity-based ``setting__*`` form the Functions host reads."""
    connection = environ.get(setting)
    if connection:
        return TableServiceClient.from_connection_string(connection)
    endpoint = table_endpoint(setting, environ)
    return TableServiceClient(endpoint=endpoint, credential=credential_for(identity_choice(setting, environ)))


@dataclass(frozen=True)
class IdentityChoice:
    """The Entra credential for the account: a managed identity (user-assigned if ``client_id``) or the chain."""

    managed: bool
    client_id: str | None


def identity_choice(setting: str, environ: Mapping[str, str]) -> IdentityChoice:
    """Read ``__credential`` and ``__clientId`` as the host does, so the relay uses the identity the host uses."""
    kind = environ.get(f"{setting}__credential", "").strip()
    if kind and kind.lower() != "managedidentity":
        raise ConfigError([(f"{setting}__credential", "must be 'managedidentity' or unset")])
    client_id = environ.get(f"{setting}__clientId", "").strip() or None
    return IdentityChoice(managed=bool(kind) or client_id is not None, client_id=client_id)


def credential_for(choice: IdentityChoice) -> TokenCredential:
    """The credential a choice stands for; DefaultAzureCredential covers local ``az login`` too."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    if choice.managed:
        return ManagedIdentityCredential(client_id=choice.client_id)
    return DefaultAzureCredential()


def table_endpoint(setting: str, environ: Mapping[str, str]) -> str:
    """``setting__tableServiceUri``, else the public-cloud endpoint of ``setting__accountName``."""
    uri = environ.get(f"{setting}__tableServiceUri", "").strip()
    if uri:
        if not uri.startswith("https://"):
            raise ConfigError([(f"{setting}__tableServiceUri", "must be an https:// URL (identity tokens need TLS)")])
        return uri
    account = environ.get(f"{setting}__accountName", "").strip()
    if not account:
        message = f"is not set, nor {setting}__accountName (or a connection string in {setting})"
        raise ConfigError([(f"{setting}__tableServiceUri", message)])
    if not ACCOUNT_NAME.fullmatch(account):
        raise ConfigError([(f"{setting}__accountName", "must be 3-24 lowercase letters or digits")])
    return f"https://{account}.table.core.windows.net"


def partition_key(subject: str) -> str:
    """``subject`` without the characters Table keys forbid (``/``, ``\\``, ``#``, ``?``, controls)."""
    return quote(subject, safe="@:._-+=!$&()*,;~")


async def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """One SDK call in a worker thread; transport failures become a 503."""
    try:
        return await asyncio.to_thread(method, *args, **kwargs)
    except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
        raise
    except AzureError as exc:
        logger.error("quota store call %s failed: %s", getattr(method, "__name__", "?"), type(exc).__name__)
        raise QuotaStoreUnavailable("the quota store is unavailable; please retry", retry_after=1) from exc
