"""Keyless-mode helpers: the federation emulator on a free port and an app environment pointing at it.

Every secret the emulated exchanges issue (Entra tokens, AWS temporary keys and
session tokens, Google access tokens) is registered with the secret guard the
moment it is issued, so a leak anywhere later in the test fails it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.emulators.azure_identity import IDENTITY_PATH
from devtools.emulators.federation import FederationEmulator, dev_federation
from devtools.threaded_server import ThreadedServer
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
