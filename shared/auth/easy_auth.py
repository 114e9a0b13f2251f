"""App Service Authentication ("Easy Auth"): the platform's ``x-ms-client-principal`` header.

When App Service Authentication is on, the platform signs the user in, strips
any ``x-ms-client-principal*`` headers a client sent, and adds its own. The
relay trusts the header only when the configuration says the platform sets
it; otherwise anyone could forge one, so it is ignored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import Forbidden, Unauthorized
from .identity import Identity, allowed_models
from .settings import EasyAuthSettings

PRINCIPAL_HEADER = "x-ms-client-principal"
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
# Front ends cap all request headers far below this (Kestrel: 32 KiB), so only a forgery is longer.
MAX_PRINCIPAL_CHARS = 64 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class PrincipalClaim(_Strict):
    """One claim as the platform writes it: a type and a string value."""

    typ: str
    val: str


class Principal(_Strict):
    """The decoded header; pydantic's JSON parser bounds nesting depth, so hostile input is a validation error."""

    auth_typ: str | None = None
    role_typ: str | None = None
    claims: list[PrincipalClaim] = []

    def first(self, types: tuple[str, ...]) -> str | None:
        """The first non-empty value of a claim of one of ``types``."""
        return next((claim.val for claim in self.claims if claim.typ in types and claim.val), None)


def principal_identity(headers: Mapping[str, str], settings: EasyAuthSettings) -> Identity | None:
    """The platform-authenticated caller, or None when the request carries no principal."""
    encoded = headers.get(PRINCIPAL_HEADER)
    if encoded is None:
        return None
    principal = _decode(encoded)
    user_id = headers.get(f"{PRINCIPAL_HEADER}-id") or principal.first(OBJECT_ID_CLAIMS)
    provider = headers.get(f"{PRINCIPAL_HEADER}-idp") or principal.auth_typ or "unknown"
    if not user_id:
        raise Unauthorized("the client principal has no user id")
    role_types = (principal.role_typ or "roles", "roles")
    roles = {claim.val for claim in principal.claims if claim.typ in role_types}
    if settings.required_roles and not roles & set(settings.required_roles):
        raise Forbidden("the signed-in user lacks a required role")
    return Identity(
        subject=f"easyauth:{provider}/{user_id}",
        method="easy_auth",
        models=allowed_models(settings.models),
        profile=settings.profile,
    )


def _decode(encoded: str) -> Principal:
    if len(encoded) > MAX_PRINCIPAL_CHARS:
        raise Unauthorized("the client principal header is malformed")
    try:
        return Principal.model_validate_json(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError, ValidationError):
        raise Unauthorized("the client principal header is malformed") from None
