"""App Service's managed-identity endpoint, emulated, so keyless Entra ID runs offline.

In Azure, ``DefaultAzureCredential`` finds ``IDENTITY_ENDPOINT`` and
``IDENTITY_HEADER`` in the environment and asks that endpoint for a token; the
Azure OpenAI emulator serves the same endpoint at :data:`IDENTITY_PATH`, so a
relay without a key, pointed at it, runs the real credential code. Tokens are
JWT-shaped (Entra's are JWTs, which is how Azure tells them from a key sent as
a bearer token) and remembered, so a chat request can show where its token
came from. Their signature is not real: nothing offline could check it.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any

IDENTITY_PATH = "/_identity/token"
IDENTITY_API_VERSION = "2019-08-01"
TOKEN_LIFETIME_SECONDS = 3600


def _b64url(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def looks_like_jwt(token: str) -> bool:
    """Entra tokens are three dot-separated segments; an API key never is."""
    return token.count(".") == 2


class ManagedIdentity:
    """Issues tokens the way App Service's identity endpoint does, and remembers them."""

    def __init__(self) -> None:
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
        expires_on = int(time.time()) + TOKEN_LIFETIME_SECONDS
        token = self._mint(params["resource"], expires_on)
        return 200, {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": params["resource"],
            "token_type": "Bearer",
        }

    def _mint(self, resource: str, expires_on: int) -> str:
        claims = {"aud": resource, "exp": expires_on, "oid": "emulated-identity", "jti": secrets.token_hex(8)}
        token = ".".join((_b64url({"alg": "none", "typ": "JWT"}), _b64url(claims), secrets.token_urlsafe(16)))
        with self._lock:
            self._issued.add(token)
        return token
