"""The ``quotas`` section: per-client rate limits and token budgets, and where their state lives."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..storage_settings import TABLE_NAME_PATTERN, StorageTable


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Quota(_Section):
    """Limits for every identity of one profile; unset means unlimited."""

    requests_per_minute: int | None = Field(default=None, ge=1, description="Admitted requests per clock minute.")
    concurrent_streams: int | None = Field(default=None, ge=1, le=500, description="Responses in flight at once.")
    tokens_per_day: int | None = Field(default=None, ge=1, description="Prompt plus completion tokens per UTC day.")


class TableStore(StorageTable):
    """Azure Table Storage, shared by every instance of the app."""

    table_name: str = Field(default="relayquotas", pattern=TABLE_NAME_PATTERN)


class QuotaSettings(_Section):
    """Limits by profile and the store that keeps count."""

    store: Literal["memory", "table"] = Field(
        default="memory", description="memory: per instance; table: shared by every instance."
    )
    table: TableStore = TableStore()
    lease_seconds: float = Field(
        default=1800, gt=0, description="After this long an unfinished stream's slot and reservation expire."
    )
    profiles: dict[str, Quota] = Field(default={}, description="Quota by profile name; 'default' for everyone else.")
