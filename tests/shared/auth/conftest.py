"""Fixtures for the Entra ID tests: a tenant's signing keys, its JWKS on 127.0.0.1 and verifiers on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from devtools.threaded_server import ThreadedServer
from shared.auth.entra import EntraVerifier
from shared.auth.jwks import JwksCache
from tests.relay_configs import chat_config
from tests.secret_guard import register_secret
from tests.shared.auth.entra_signer import AUDIENCE, TENANT, JwksServer, SigningKey, Verifier, settings


@pytest.fixture(scope="module")
def signing_keys() -> list[SigningKey]:
    keys = [SigningKey("key-1"), SigningKey("key-2"), SigningKey("forger")]
    for key in keys:
        register_secret(key.pem().splitlines()[1], f"private key {key.kid}")
    return keys


@pytest.fixture
def jwks(signing_keys: list[SigningKey]) -> Iterator[JwksServer]:
    server = JwksServer(keys=[signing_keys[0]])
    with ThreadedServer(server.app()) as running:
        server.url = f"{running.url}/keys"
        yield server


@pytest.fixture
async def verifier(jwks: JwksServer) -> AsyncIterator[Verifier]:
    """Makes verifiers on the test's JWKS; their key fetchers are closed afterwards, pass or fail."""
    made: list[EntraVerifier] = []

    def make(**fields: Any) -> EntraVerifier:
        entra = settings(jwks.url, **fields)
        made.append(EntraVerifier(entra, JwksCache(jwks.url, refetch_seconds=entra.jwks_refetch_seconds)))
        return made[-1]

    yield make
    for each in made:
        await each.keys.aclose()


@pytest.fixture
def entra_relay(start_relay: Callable[..., ThreadedServer], azure: Any, jwks: JwksServer) -> str:
    entra = {"tenant_id": TENANT, "audiences": [AUDIENCE], "jwks_url": jwks.url, "models": ["azure"]}
    return start_relay(chat_config(azure.url, auth={"entra": entra})).url
