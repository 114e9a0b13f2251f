"""Reading the credential a client presents, without judging it.

OpenAI SDKs send ``Authorization: Bearer <key>``; Azure OpenAI clients send
``api-key``. Both carry relay keys; the bearer form also carries Entra ID
tokens and browser tokens, told apart by their shape.

Every credential the relay issues or accepts is printable ASCII of modest
length (relay keys, JWTs and browser tokens are base64url and dots), so
anything else is refused here, before a verifier has to cope with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import Unauthorized

# Front ends cap all request headers at about 32 KiB (Kestrel), so a longer credential is not one.
MAX_CREDENTIAL_CHARS = 32 * 1024
PRINTABLE = re.compile(r"[\x21-\x7e]+")


def presented_credential(headers: Mapping[str, str]) -> str | None:
    """The bearer token or ``api-key`` value, or None when the client sent neither."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <credential>'")
        return _well_formed(value.strip())
    api_key = headers.get("api-key")
    if api_key is not None:
        if not api_key.strip():
            raise Unauthorized("the api-key header is empty")
        return _well_formed(api_key.strip())
    return None


def _well_formed(credential: str) -> str:
    if len(credential) > MAX_CREDENTIAL_CHARS or not PRINTABLE.fullmatch(credential):
        raise Unauthorized("the credential must be printable ASCII without spaces, as every relay credential is")
    return credential


def looks_like_jwt(credential: str) -> bool:
    """Three base64url segments, the first a JSON header (``eyJ`` is ``{"`` encoded)."""
    return credential.startswith("eyJ") and credential.count(".") == 2
