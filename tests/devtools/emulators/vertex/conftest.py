"""The Vertex emulator every test in this folder talks to, and a token it issued.

Each test module gets its own emulator on its own server; every test starts
with an empty scenario book and request log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.emulators.vertex import VertexEmulator, create_app
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import credentials_for, refreshed


@pytest.fixture(scope="module")
def emulator() -> VertexEmulator:
    return create_app()


@pytest.fixture(scope="module")
def server(emulator: VertexEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(emulator) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(emulator: VertexEmulator) -> None:
    emulator.book.clear()
    emulator.recorder.clear()


@pytest.fixture(scope="module")
def token(server: ThreadedServer) -> str:
    return refreshed(credentials_for(server.url))
