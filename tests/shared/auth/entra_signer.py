"""A test tenant: RSA signing keys, the JWKS endpoint that publishes them, and tokens they sign.

``signed`` signs raw header and payload bytes, so tests can build the
hostile tokens PyJWT's own encoder refuses to produce.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.auth.entra import EntraVerifier
from shared.auth.settings import EntraSettings

TENANT = "11111111-2222-3333-4444-555555555555"
AUDIENCE = "api://llm-relay"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"

Verifier = Callable[..., EntraVerifier]


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        document: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**document, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def signed(self, header: bytes, payload: bytes) -> str:
        """A compact JWS of exactly these bytes, with a valid RS256 signature."""
        signing_input = f"{b64url(header)}.{b64url(payload)}"
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


@dataclass
class JwksServer:
    """The tenant's key endpoint: serves ``keys`` (or ``body``), counts fetches, can be slowed or broken."""

    keys: list[SigningKey]
    url: str = ""
    fetches: int = 0
    delay: float = 0.0
    status: int = 200
    body: bytes | None = None

    def app(self) -> Starlette:
        async def serve(request: Request) -> Response:
            self.fetches += 1
            await asyncio.sleep(self.delay)
            if self.body is not None:
                return Response(self.body, status_code=self.status, media_type="application/json")
            return JSONResponse({"keys": [key.jwk() for key in self.keys]}, status_code=self.status)

        return Starlette(routes=[Route("/keys", serve)])


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    document = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "tid": TENANT,
        "oid": "user-object-id",
        "sub": "pairwise-subject",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    document.update(overrides)
    return {name: value for name, value in document.items() if value is not None}


def token(key: SigningKey, kid: str | None = None, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key.private, algorithm="RS256", headers={"kid": kid or key.kid})


def raw_token(key: SigningKey, header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes) -> str:
    """A token signed by ``key`` whose header and payload may be any JSON, or any bytes at all."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    payload_bytes = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return key.signed(header_bytes, payload_bytes)


def settings(jwks_url: str, **fields: Any) -> EntraSettings:
    return EntraSettings(tenant_id=TENANT, audiences=[AUDIENCE], jwks_url=jwks_url, **fields)
