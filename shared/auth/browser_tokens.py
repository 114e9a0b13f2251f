"""Short-lived browser tokens: HMAC-signed claims the relay verifies with no lookup.

A web page must not hold a relay key, so a server (or an authenticated call to
the relay) mints a token that says who it is for, which aliases it may use,
its ``max_tokens`` ceiling and when it expires, a few minutes away::

    rbt1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "rbt1.<claims>"))>

Tokens are signed with the current secret and verified against the current
and then the previous one, so the secret can be rotated without cutting off
tokens already handed out: set the previous-secret setting to the old value,
the secret setting to a new one, and drop the previous one after
``max_ttl_minutes``.

Each part has exactly one accepted spelling, base64url without padding, so a
token cannot be altered into another string the relay also accepts. Claims
are checked for type and range even though only the key holder can sign
them: decoding a token answers 401 or nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import Unauthorized
from .identity import Identity, allowed_models

TOKEN_PREFIX = "rbt1."
CLOCK_SKEW_SECONDS = 30
# Times and counts beyond 2**53 are not ones the relay mints; they need no exact arithmetic.
LARGEST = 2**53
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class TokenClaims:
    """What a browser token grants."""

    subject: str
    models: tuple[str, ...]
    max_tokens: int
    issued_at: int
    expires_at: int

    def document(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "models": list(self.models),
            "max_tokens": self.max_tokens,
            "iat": self.issued_at,
            "exp": self.expires_at,
        }


class BrowserTokens:
    """Mints and verifies tokens with a current secret and, while rotating, a previous one."""

    def __init__(
        self,
        secret: str,
        previous_secret: str | None = None,
        *,
        max_ttl_seconds: float,
        profile: str = "default",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = [value.encode() for value in (secret, previous_secret) if value]
        self.max_ttl_seconds = max_ttl_seconds
        self.profile = profile
        self._clock = clock

    def claims(self, subject: str, models: Sequence[str], max_tokens: int, ttl_seconds: float) -> TokenClaims:
        """Claims starting now and lasting ``ttl_seconds``."""
        now = int(self._clock())
        return TokenClaims(subject, tuple(models), max_tokens, now, now + int(ttl_seconds))

    def mint(self, claims: TokenClaims) -> str:
        """The signed token for ``claims``."""
        payload = _encode(json.dumps(claims.document(), separators=(",", ":")).encode())
        signed = TOKEN_PREFIX + payload
        return f"{signed}.{_encode(_sign(self._secrets[0], signed))}"

    def verify(self, token: str) -> Identity:
        """The identity a valid token grants; ``Unauthorized`` saying why otherwise."""
        claims = self._claims(token)
        now = self._clock()
        if claims.expires_at + CLOCK_SKEW_SECONDS < now:
            raise Unauthorized("the browser token has expired")
        if claims.issued_at - CLOCK_SKEW_SECONDS > now or claims.expires_at - claims.issued_at > self.max_ttl_seconds:
            raise Unauthorized("the browser token's lifetime is not acceptable")
        return Identity(
            subject=claims.subject,
            method="browser_token",
            models=allowed_models(claims.models),
            profile=self.profile,
            max_tokens=claims.max_tokens,
            can_mint=False,
        )

    def _claims(self, token: str) -> TokenClaims:
        signed, _, signature = token.rpartition(".")
        if not signed.startswith(TOKEN_PREFIX) or not signature:
            raise Unauthorized("the browser token is malformed")
        try:
            given = _decode(signature)
        except ValueError:
            raise Unauthorized("the browser token is malformed") from None
        valid = [hmac.compare_digest(_sign(secret, signed), given) for secret in self._secrets]
        if not any(valid):
            raise Unauthorized("the browser token's signature is not valid")
        return _parse_claims(signed[len(TOKEN_PREFIX) :])


class ClaimsDocument(BaseModel):
    """The signed JSON, in exactly the types :meth:`TokenClaims.document` writes."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    sub: str = Field(min_length=1)
    models: list[str] = Field(min_length=1)
    max_tokens: int = Field(ge=1, le=LARGEST)
    iat: int = Field(ge=0, le=LARGEST)
    exp: int = Field(ge=0, le=LARGEST)


def _parse_claims(payload: str) -> TokenClaims:
    try:
        document = ClaimsDocument.model_validate_json(_decode(payload))
    except (ValueError, ValidationError):
        raise Unauthorized("the browser token's claims are malformed") from None
    return TokenClaims(document.sub, tuple(document.models), document.max_tokens, document.iat, document.exp)


def _sign(secret: bytes, signed: str) -> bytes:
    return hmac.new(secret, signed.encode(), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    """The bytes ``text`` encodes, if it is their one canonical base64url spelling, without padding."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if _encode(raw) != text:
        raise ValueError("not the canonical base64url encoding")
    return raw
