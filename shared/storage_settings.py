"""Where a feature's Azure Table lives: the part the quota store and the stream log share.

Both name their account the way the Functions host does (a connection string,
or identity-based ``<name>__tableServiceUri`` / ``<name>__accountName``
settings), so both sections take the same field with the same checks; only
the table's default name differs, set by each subclass.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .auth.settings import SETTING_PATTERN

# Azure Table names: a letter, then letters and digits, 3 to 63 in all.
TABLE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9]{2,62}$"


class StorageTable(BaseModel):
    """An Azure Table on the account an app setting names."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    connection_setting: str = Field(
        default="AzureWebJobsStorage",
        pattern=SETTING_PATTERN,
        description="App setting with a connection string, or the prefix of identity-based settings "
        "(<name>__tableServiceUri or <name>__accountName).",
    )
