"""App Service Authentication ("Easy Auth"): the platform's ``x-ms-client-principal`` header.

When App Service Authentication is on, the platform signs the user in, strips
any ``x-ms-client-principal*`` headers a client sent, and adds its own. The
relay trusts the header only when the configuration says the platform sets
it; otherwise anyone could forge one, so it is ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from ..errors import Forbidden, Unauthorized
from .identity import Identity, allowed_models
from .settings import EasyAuthSettings

PRINCIPAL_HEADER = "x-ms-client-principal"
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


def principal_identity(headers: Mapping[str, str], settings: EasyAuthSettings) -> Identity | None:
    """The platform-authenticated caller, or None when the request carries no principal."""
    encoded = headers.get(PRINCIPAL_HEADER)
    if encoded is None:
        return None
    principal = _decode(encoded)
    claims = [claim for claim in principal.get("claims") or [] if isinstance(claim, dict)]
    user_id = headers.get(f"{PRINCIPAL_HEADER}-id") or _claim(claims, OBJECT_ID_CLAIMS)
    provider = headers.get(f"{PRINCIPAL_HEADER}-idp") or str(principal.get("auth_typ") or "unknown")
    if not user_id:
        raise Unauthorized("the client principal has no user id")
    role_type = str(principal.get("role_typ") or "roles")
    roles = {str(claim.get("val")) for claim in claims if claim.get("typ") in (role_type, "roles")}
    if settings.required_roles and not roles & set(settings.required_roles):
        raise Forbidden("the signed-in user lacks a required role")
    return Identity(
        subject=f"easyauth:{provider}/{user_id}",
        method="easy_auth",
        models=allowed_models(settings.models),
        profile=settings.profile,
    )


def _decode(encoded: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise Unauthorized("the client principal header is malformed") from None
    if not isinstance(document, dict):
        raise Unauthorized("the client principal header is malformed")
    return document


def _claim(claims: list[dict[str, Any]], types: tuple[str, ...]) -> str | None:
    for claim in claims:
        if claim.get("typ") in types and claim.get("val"):
            return str(claim["val"])
    return None
