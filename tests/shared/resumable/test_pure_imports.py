"""Framing, generation, reading and the store contract import no SDK; only the Table store loads Azure's."""

from __future__ import annotations

import pytest

from tests.test_sdk_free_imports import SDKS, loaded_sdks

PURE = (
    "shared.resumable.framing",
    "shared.resumable.generation",
    "shared.resumable.reader",
    "shared.resumable.requests",
    "shared.resumable.store",
    "shared.resumable.memory_store",
)
WITH_AZURE = (*SDKS, "azure")


@pytest.mark.parametrize("module", PURE)
def test_the_pure_parts_load_no_sdk(module: str) -> None:
    assert loaded_sdks(module, packages=WITH_AZURE) == []


def test_the_probe_sees_the_table_store_load_the_azure_sdk() -> None:
    assert "azure" in loaded_sdks("shared.resumable.table_store", packages=WITH_AZURE)
