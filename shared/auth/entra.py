"""Microsoft Entra ID bearer tokens, checked with PyJWT against the tenant's published keys.

A token is accepted when its RS256 signature verifies with a key from the
tenant's JWKS and its issuer, audience and lifetime are right (with a small
clock skew). Optionally it must also carry one of the configured app roles
(application tokens) or delegated scopes (user tokens).

PyJWT checks the registered claims; the Entra-specific ones the relay reads
(``oid``, ``sub``, ``tid``, ``roles``, ``scp``) are checked for shape here,
because a token can be validly signed and still carry ``roles: 5``. Every
problem with the token, whatever PyJWT class it raises, is a 401.
"""

from __future__ import annotations

from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import Forbidden, Unauthorized
from .identity import Identity, allowed_models
from .jwks import JwksCache
from .settings import EntraSettings

ALGORITHMS = ["RS256"]

_REASONS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token was not issued for this relay (audience)"),
    (jwt.InvalidIssuerError, "the token was not issued by the configured tenant (issuer)"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token's signature is not valid"),
]


class EntraClaims(BaseModel):
    """The claims the relay reads, in the shapes Entra ID issues them; others are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    oid: str | None = None
    sub: str | None = None
    tid: str | None = None
    roles: list[str] = []
    scp: str = ""


class EntraVerifier:
    """Turns a valid Entra ID access token into an identity."""

    def __init__(self, settings: EntraSettings, keys: JwksCache) -> None:
        self.settings = settings
        self.keys = keys

    async def verify(self, token: str) -> Identity:
        """The caller's identity; ``Unauthorized`` or ``Forbidden`` saying why not."""
        claims = _shaped(await self._claims(token))
        self._check_grants(claims)
        return Identity(
            subject=f"entra:{claims.tid or self.settings.tenant_id}/{claims.oid or claims.sub}",
            method="entra",
            models=allowed_models(self.settings.models),
            profile=self.settings.profile,
        )

    async def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("the bearer token is malformed") from None
        if header.get("alg") not in ALGORITHMS or not isinstance(header.get("kid"), str):
            raise Unauthorized("the bearer token must be RS256-signed with a key id")
        key = await self.keys.key(header["kid"])
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.settings.audiences,
                issuer=self.settings.issuer_values(),
                leeway=self.settings.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(_reason(exc)) from None

    def _check_grants(self, claims: EntraClaims) -> None:
        roles, scopes = self.settings.required_roles, self.settings.required_scopes
        if not roles and not scopes:
            return
        if set(claims.roles) & set(roles) or set(claims.scp.split()) & set(scopes):
            return
        raise Forbidden("the token lacks a required app role or scope")


def _shaped(document: dict[str, Any]) -> EntraClaims:
    """The claims the relay reads; a signed token with claims of the wrong shape is still malformed."""
    try:
        claims = EntraClaims.model_validate(document)
    except ValidationError as exc:
        names = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise Unauthorized(f"the token's claims are malformed: {', '.join(names)}") from None
    if not (claims.oid or claims.sub):
        raise Unauthorized("the token names no subject (oid or sub)")
    return claims


def _reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "the bearer token is not valid"
