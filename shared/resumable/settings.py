"""The ``resumable`` section: where resumable streams are logged and how often the log is touched."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..storage_settings import TABLE_NAME_PATTERN, StorageTable


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StreamTable(StorageTable):
    """Azure Table Storage, shared by every instance, so a resume may land anywhere."""

    table_name: str = Field(default="relaystreams", pattern=TABLE_NAME_PATTERN)


class ResumableSettings(_Section):
    """Streams a client opted into with ``x-relay-resumable: 1``: their replay log and its timings."""

    store: Literal["memory", "table"] = Field(
        default="memory", description="memory: resumable on the same instance only; table: on any instance."
    )
    table: StreamTable = StreamTable()
    flush_seconds: float = Field(
        default=0.5, gt=0, le=10, description="Events are written in one batch per interval, not one per token."
    )
    poll_seconds: float = Field(
        default=0.5, ge=0.05, le=10, description="How often a reader on another instance reads the log."
    )
    beat_seconds: float = Field(
        default=2, gt=0, le=60, description="The generating instance marks the stream alive this often when idle."
    )
    lost_after_seconds: float = Field(
        default=10, gt=0, le=300, description="A stream not marked alive for this long ends its readers as lost."
    )
    ttl_seconds: float = Field(default=3600, ge=60, description="How long a stream can be resumed after it starts.")
    max_detached_seconds: float = Field(
        default=300, gt=0, description="How long generation goes on with no reader on the generating instance."
    )
    max_detached_events: int | None = Field(
        default=None, ge=1, description="How many more events (about one a token) it may generate meanwhile."
    )
