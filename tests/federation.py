"""Keyless-mode helpers: the federation emulator on a free port and an app environment pointing at it.

Every secret the emulated exchanges issue (Entra tokens, AWS temporary keys and
session tokens, Google access tokens) is registered with the secret guard the
moment it is issued, so a leak anywhere later in the test fails it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from devtools.emulators.azure_identity import IDENTITY_PATH
from devtools.emulators.federation import FederationEmulator, dev_federation
from devtools.threaded_server import ThreadedServer
from tests.builders import AUTH_HEADERS
from tests.secret_guard import register_secret


def _guard(value: str, label: str) -> None:
    register_secret(value, label)


def serve_federation() -> Iterator[FederationEmulator]:
    """The dev federation (role, pool provider, binding) served on a free port."""
    emulator = dev_federation(on_issue=_guard)
    with ThreadedServer(emulator) as server:
        emulator.url = server.url
        yield emulator


def managed_identity_environment(monkeypatch: pytest.MonkeyPatch, federation: FederationEmulator) -> None:
    """What App Service gives an app with a managed identity, pointed at the emulator; no cloud keys at all."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{federation.url}{IDENTITY_PATH}")
    monkeypatch.setenv("IDENTITY_HEADER", "emulated-identity-header")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


def burst_then_retries(relay: str, alias: str, burst: int = 10, retries: int = 2) -> list[httpx.Response]:
    """``burst`` concurrent chat requests on a cold backend, then ``retries`` one by one: what clients do on a 503."""

    async def post(client: httpx.AsyncClient) -> httpx.Response:
        body = {"model": alias, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        return await client.post("/api/v1/chat/completions", json=body)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=relay, headers=AUTH_HEADERS, timeout=30) as client:
            answers = list(await asyncio.gather(*(post(client) for _ in range(burst))))
            for _ in range(retries):
                answers.append(await post(client))
            return answers

    return asyncio.run(run())
