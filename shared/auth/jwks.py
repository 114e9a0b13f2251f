"""The signing keys of a token issuer, fetched over HTTP and cached.

Keys are fetched with an async client, so a fetch never blocks the event
loop. A token signed with a ``kid`` the cache does not know triggers one
re-fetch, because issuers rotate keys; re-fetches are spaced at least
``refetch_seconds`` apart so a stream of forged ``kid`` values cannot turn
the relay into a load generator against the issuer. Concurrent requests
share one fetch. A key set that is not a JSON object of keys counts as a
failed fetch (503 until one succeeds), and only RSA signing keys are kept,
so no other key type can ever be handed to the RS256 check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import jwt

from ..errors import RelayError, Unauthorized

logger = logging.getLogger(__name__)


class KeysUnavailable(RelayError):
    status = 503
    code = "auth_keys_unavailable"
    retryable = True


class JwksCache:
    """Keys by ``kid`` from one JWKS URL."""

    def __init__(
        self,
        url: str,
        *,
        max_age_seconds: float = 3600,
        refetch_seconds: float = 60,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._max_age = max_age_seconds
        self._refetch = refetch_seconds
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> jwt.PyJWK:
        """The key with ``kid``, fetching the set when it is stale or lacks that key."""
        if self._needs_fetch(kid):
            async with self._lock:
                if self._needs_fetch(kid):
                    await self._fetch()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("the token was signed with an unknown key")
        return found

    def _needs_fetch(self, kid: str) -> bool:
        if self._fetched_at is None:
            return True
        age = self._clock() - self._fetched_at
        return age > self._max_age or (kid not in self._keys and age >= self._refetch)

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            response = await self._client.get(self.url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(_key_set(response.json())).keys
        except (httpx.HTTPError, ValueError, RecursionError, jwt.PyJWKSetError) as exc:
            logger.error("cannot fetch token signing keys from %s: %s", self.url, type(exc).__name__)
            if not self._keys:
                raise KeysUnavailable("the relay cannot check tokens right now; please retry") from None
            self._fetched_at = self._clock()
            return
        self._keys = _rsa_signing_keys(keys)
        self._fetched_at = self._clock()

    async def aclose(self) -> None:
        await self._client.aclose()


def _key_set(document: object) -> dict[str, object]:
    """The JWKS document, if it is a JSON object; PyJWT assumes one."""
    if not isinstance(document, dict):
        raise ValueError("the key set is not a JSON object")
    return document


def _rsa_signing_keys(keys: list[jwt.PyJWK]) -> dict[str, jwt.PyJWK]:
    """Only RSA signature keys with a string id can check RS256 tokens; the rest are never looked up."""
    found: dict[str, jwt.PyJWK] = {}
    for key in keys:
        kid = key.key_id
        if isinstance(kid, str) and kid and key.key_type == "RSA" and key.public_key_use in (None, "sig"):
            found[kid] = key
    return found
