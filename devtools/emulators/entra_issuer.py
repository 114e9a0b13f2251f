"""A local Entra ID token issuer: RS256 JWTs, a JWKS and OIDC discovery, with a key of its own.

Federating the app's managed identity into AWS and Google only works if the
token the identity gets is one the other cloud can verify: signed by a key
it finds through the issuer's discovery document, for the audience and
issuer its trust configuration names. This issuer lets the emulated STS
endpoints (:mod:`.aws_sts`, :mod:`.google_sts`) check exactly that, offline.

Tokens carry the v1 issuer ``https://sts.windows.net/{tenant}/``: that is
what Entra puts in a managed identity's token for a resource such as
``api://AzureADTokenExchange``, and what the README tells AWS and Google to trust.
The key is generated per process, so nothing secret is checked in.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_TENANT = "00000000-0000-4000-8000-00000000e1d0"
DEV_PRINCIPAL = "00000000-0000-4000-8000-0000000001d0"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
TOKEN_LIFETIME_SECONDS = 3600

# Told of every secret an emulated exchange hands out, with a label: tests register them with the secret guard.
OnIssue = Callable[[str, str], None]


def issuer_for(tenant: str) -> str:
    """The ``iss`` of a v1 Entra token for ``tenant``."""
    return f"https://sts.windows.net/{tenant}/"


class TokenInvalid(ValueError):
    """A subject token a federating cloud would refuse; the message says why, never quotes it."""


class EntraIssuer:
    """Signs managed-identity tokens and verifies them against its own published key set."""

    def __init__(self, tenant: str = DEV_TENANT, on_issue: OnIssue | None = None) -> None:
        self.tenant = tenant
        self.on_issue = on_issue
        self.issuer = issuer_for(tenant)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)

    def mint(self, audience: str, subject: str = DEV_PRINCIPAL, lifetime: float = TOKEN_LIFETIME_SECONDS) -> str:
        """A signed access token for ``audience`` whose subject is the managed identity's object id."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "oid": subject,
            "tid": self.tenant,
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})
        if self.on_issue is not None:
            self.on_issue(token, "Entra managed-identity token")
        return token

    def jwks(self) -> dict[str, Any]:
        """The public key set, as ``/discovery/keys`` serves it."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self, base_url: str) -> dict[str, Any]:
        """The OIDC discovery document, naming where this server publishes its keys."""
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{base_url}/{self.tenant}/discovery/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
        }

    def verify(self, token: str, audience: str, issuer: str) -> dict[str, Any]:
        """The claims of ``token`` if the published key signed it for ``audience`` and ``issuer``."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(self.jwks()).keys}
            if kid not in keys:
                raise TokenInvalid("the token was not signed by a key the issuer publishes")
            claims: dict[str, Any] = jwt.decode(
                token, keys[kid].key, algorithms=["RS256"], audience=audience, issuer=issuer
            )
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalid("Incorrect token audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenInvalid("the token's issuer is not trusted") from exc
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("the token's signature does not verify") from exc
        return claims
