"""The example page backend: it passes on a minted token and nothing else, never its key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.example_backend import TOKEN_PATH, ExampleBackend
from devtools.processes import free_port
from devtools.threaded_server import ThreadedServer
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, TEST_AUTH, serve_relay, single_azure_config

SECRET = "example-backend-test-secret-of-enough-length"
WRONG_KEY = "not-the-relay-key-held-by-this-backend"


async def nothing_else(scope: object, receive: object, send: object) -> None:
    """Stands for the relay behind the backend; these tests never reach it."""
    raise AssertionError("only the token route is expected")


@pytest.fixture
def minting_relay(azure: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay that knows the tests' relay key and mints browser tokens."""
    config = {**single_azure_config(azure), "auth": {**TEST_AUTH, "browser_tokens": {"secret_setting": "S"}}}
    with serve_relay(config, {"S": SECRET, "AZURE_TEST_KEY": AZURE_TEST_KEY}) as url:
        yield url


def serve_backend(key: str, relay_url: str) -> ThreadedServer:
    backend = ExampleBackend(key, relay_url=relay_url)
    return ThreadedServer(backend.in_front_of(nothing_else)).start()


@pytest.mark.parametrize("key", [RELAY_TEST_KEY, WRONG_KEY])
def test_the_backend_hands_out_a_token_or_a_502_and_never_its_key(minting_relay: str, key: str) -> None:
    server = serve_backend(key, minting_relay)
    try:
        response = httpx.post(f"{server.url}{TOKEN_PATH}", timeout=10)
        refused = httpx.get(f"{server.url}{TOKEN_PATH}", timeout=10)
    finally:
        server.stop()
    assert key not in response.text and key not in str(response.headers)
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    if key == WRONG_KEY:
        assert response.status_code == 502
        assert response.json()["error"]["message"] == "the relay refused to mint a token (HTTP 401)"
        return
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    document = response.json()
    assert sorted(document) == ["exp", "models", "token"] and document["token"].startswith("rbt1.")


def test_an_unreachable_relay_is_a_502_not_a_traceback() -> None:
    server = serve_backend(RELAY_TEST_KEY, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        response = httpx.post(f"{server.url}{TOKEN_PATH}", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 502 and response.json()["error"]["code"] == "token_unavailable"
