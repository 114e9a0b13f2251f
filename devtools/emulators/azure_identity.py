"""App Service's managed-identity endpoint, emulated, so keyless Entra ID runs offline.

In Azure, ``DefaultAzureCredential`` finds ``IDENTITY_ENDPOINT`` and
``IDENTITY_HEADER`` in the environment and asks that endpoint for a token; the
Azure OpenAI emulator serves the same endpoint at :data:`IDENTITY_PATH`, so a
relay without a key, pointed at it, runs the real credential code. Tokens are
RS256 JWTs signed by a local Entra-like issuer (:mod:`.entra_issuer`), which
publishes its keys, so the emulated AWS and Google STS endpoints can verify a
federated subject token as the real ones do; they are also remembered, so a
chat request can show where its token came from.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .entra_issuer import EntraIssuer

IDENTITY_PATH = "/_identity/token"
IDENTITY_API_VERSION = "2019-08-01"
TOKEN_LIFETIME_SECONDS = 3600


def looks_like_jwt(token: str) -> bool:
    """Entra tokens are three dot-separated segments; an API key never is."""
    return token.count(".") == 2


class ManagedIdentity:
    """Issues tokens the way App Service's identity endpoint does, and remembers them."""

    def __init__(self, issuer: EntraIssuer | None = None) -> None:
        self.issuer = issuer or EntraIssuer()
        self.requests = 0
        self.client_ids: list[str | None] = []  # the user-assigned identity each request named, if any
        self._issued: set[str] = set()
        self._lock = threading.Lock()

    def issued(self, token: str) -> bool:
        """Whether this endpoint handed out ``token``."""
        with self._lock:
            return token in self._issued

    def answer(self, params: dict[str, str], identity_header: str | None) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one token request."""
        if not identity_header:
            return 401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is missing"}
        if params.get("api-version") != IDENTITY_API_VERSION or not params.get("resource"):
            return 400, {"statusCode": 400, "message": "api-version 2019-08-01 and resource are required"}
        with self._lock:
            self.requests += 1
            self.client_ids.append(params.get("client_id"))
        expires_on = int(time.time()) + TOKEN_LIFETIME_SECONDS
        token = self.issuer.mint(params["resource"], lifetime=TOKEN_LIFETIME_SECONDS)
        with self._lock:
            self._issued.add(token)
        return 200, {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": params["resource"],
            "token_type": "Bearer",
        }
