"""The route table the catch-all answers from: which methods a path takes, and what the relay serves."""

from __future__ import annotations

import pytest

from shared.route_table import RouteTable


@pytest.fixture
def table() -> RouteTable:
    table = RouteTable()
    table.add("v1/chat/completions", ("POST",))
    table.add("v1/models", ("GET",))
    table.add("v1/models/{model}", ("GET",))
    table.add("ui/{file}", ("GET",))
    table.add("{*path}", ("OPTIONS",))
    return table


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/chat/completions", ["POST"]),
        ("/api/V1/Chat/Completions/", ["POST"]),
        ("/api/v1/models/azure", ["GET"]),
        ("/api/v1/models/a/b", []),
        ("/api/v1/models/", ["GET"]),
        ("/api/ui/app.js", ["GET"]),
        ("/api/v1/chat", []),
        ("/v1/chat/completions", []),
        ("/api/anything", []),
    ],
)
def test_methods_allowed_at_a_path(table: RouteTable, path: str, allowed: list[str]) -> None:
    assert table.allowed_methods(path) == allowed


def test_the_listing_names_every_route_but_catch_alls(table: RouteTable) -> None:
    assert table.listing() == (
        "POST /api/v1/chat/completions, GET /api/v1/models, GET /api/v1/models/{model}, GET /api/ui/{file}"
    )
