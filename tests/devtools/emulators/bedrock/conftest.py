"""The Bedrock emulator every test in this folder talks to, over HTTP and HTTPS, and a boto3 client for it.

Each test module gets its own emulator; every test starts with an empty
scenario book and request log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from botocore.client import BaseClient

from devtools.emulators.bedrock import BedrockEmulator, create_app
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import make_client
from tests.devtools.emulators.bedrock.tls_certificate import self_signed_certificate
from tests.polling import wait_for


@pytest.fixture(scope="module")
def app() -> BedrockEmulator:
    return create_app()


@pytest.fixture(scope="module")
def server(app: BedrockEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def tls_server(app: BedrockEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The same app behind TLS, for boto3's Bearer auth, which refuses plain HTTP."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ssl_certfile=cert, ssl_keyfile=key
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, seconds=20)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", cert
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def clean(app: BedrockEmulator) -> None:
    app.recorder.clear()
    app.book.clear()


@pytest.fixture()
def client(server: ThreadedServer) -> Iterator[BaseClient]:
    made = make_client(server.url)
    yield made
    made.close()
