"""Reading the credential a client presents, without judging it.

OpenAI SDKs send ``Authorization: Bearer <key>``; Azure OpenAI clients send
``api-key``. Both carry relay keys; the bearer form also carries Entra ID
tokens and browser tokens, told apart by their shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Unauthorized


def presented_credential(headers: Mapping[str, str]) -> str | None:
    """The bearer token or ``api-key`` value, or None when the client sent neither."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <credential>'")
        return value.strip()
    api_key = headers.get("api-key")
    if api_key is not None:
        if not api_key.strip():
            raise Unauthorized("the api-key header is empty")
        return api_key.strip()
    return None


def looks_like_jwt(credential: str) -> bool:
    """Three base64url segments, the first a JSON header (``eyJ`` is ``{"`` encoded)."""
    return credential.startswith("eyJ") and credential.count(".") == 2
