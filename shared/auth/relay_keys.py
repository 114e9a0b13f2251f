"""Relay API keys: minted once, stored only as SHA-256 digests, compared in constant time.

A key is 256 random bits, so an unsalted SHA-256 digest cannot be reversed
and a leaked configuration reveals no key. Every configured digest is
compared on every request, without stopping at a match, so timing says
nothing about which key or how much of one matched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence

from .identity import Identity, allowed_models
from .settings import RelayKey

KEY_PREFIX = "rk-"


def mint_key() -> str:
    """A new random relay key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The hex SHA-256 digest the configuration stores instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def config_entry(name: str, key: str, models: Sequence[str], profile: str = "default") -> str:
    """The ``auth.relay_keys`` entry for ``key``, as one JSON line."""
    entry: dict[str, object] = {"name": name, "sha256": hash_key(key), "models": list(models)}
    if profile != "default":
        entry["profile"] = profile
    return json.dumps(entry)


class KeyRing:
    """The configured relay keys, looked up by the key a client presents."""

    def __init__(self, keys: Sequence[RelayKey]) -> None:
        self._keys = [(bytes.fromhex(key.sha256), key) for key in keys]

    def identify(self, presented: str) -> Identity | None:
        """The identity of the key whose digest matches, or None."""
        digest = hashlib.sha256(presented.encode()).digest()
        found: RelayKey | None = None
        for stored, key in self._keys:
            if hmac.compare_digest(digest, stored):
                found = key
        if found is None:
            return None
        return Identity(
            subject=f"key:{found.name}", method="relay_key", models=allowed_models(found.models), profile=found.profile
        )
