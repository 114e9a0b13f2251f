"""Google's OAuth2 service-account flow, emulated: JWT grants in, access tokens out.

The relay authenticates to Vertex AI the way every Google client library does:
it signs a short JWT with a service account's private key, trades it at the
token endpoint for an access token that lives about an hour, and sends that
token as ``Authorization: Bearer``. Bugs in that loop (no refresh before
expiry, a token fetched per request, no retry after a 401) only show up with a
real token endpoint, so this module implements one that checks what Google
checks and issues tokens that really expire.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# google-auth always puts Google's own token endpoint in ``aud``, whatever
# ``token_uri`` says, and Google accepts its historic endpoints too.
GOOGLE_TOKEN_AUDIENCES = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://www.googleapis.com/oauth2/v4/token",
        "https://accounts.google.com/o/oauth2/token",
    }
)
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 300
TOKEN_PREFIX = "ya29.emu-"

# Public keys of the service accounts :func:`make_service_account_info` made in
# this process, so an emulator in the same process can check their signatures
# without being told about them.
_GENERATED_KEYS: dict[str, rsa.RSAPublicKey] = {}
_GENERATED_LOCK = threading.Lock()


class GrantError(Exception):
    """A token request Google would refuse; carries the OAuth2 error body."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON body Google's token endpoint answers with."""
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class IssuedToken:
    """One access token the emulator handed out."""

    token: str
    client_email: str
    scope: str
    issued_at: float
    expires_at: float

    @property
    def expired(self) -> bool:
        """True once the token's lifetime has passed."""
        return time.time() >= self.expires_at


@dataclass(frozen=True)
class Assertion:
    """The parts of a JWT grant the token endpoint looks at."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def parse_assertion(assertion: str) -> Assertion:
    """Split and decode a compact JWS; structure only, no signature check."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise GrantError("invalid_grant", "Invalid JWT: the assertion is not a three-part JWS.")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise GrantError("invalid_grant", f"Invalid JWT: cannot decode the assertion ({exc}).") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise GrantError("invalid_grant", "Invalid JWT: header and claims must be JSON objects.")
    return Assertion(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def check_claims(assertion: Assertion, own_token_uri: str, now: float | None = None) -> None:
    """Apply Google's rules for a service-account JWT grant."""
    if assertion.header.get("alg") != "RS256":
        raise GrantError("invalid_grant", "Invalid JWT: only RS256-signed assertions are accepted.")
    claims = assertion.claims
    if not isinstance(claims.get("iss"), str) or not claims["iss"]:
        raise GrantError("invalid_grant", "Invalid JWT: no issuer (iss) claim.")
    audiences = GOOGLE_TOKEN_AUDIENCES | {own_token_uri.rstrip("/")}
    if str(claims.get("aud", "")).rstrip("/") not in audiences:
        raise GrantError("invalid_grant", f"Invalid JWT: audience {claims.get('aud')!r} is not a token endpoint.")
    _check_times(claims, time.time() if now is None else now)
    if not str(claims.get("scope") or "").strip() and not claims.get("target_audience"):
        raise GrantError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    iat, exp = claims.get("iat"), claims.get("exp")
    short_lived = (
        isinstance(iat, (int, float))
        and isinstance(exp, (int, float))
        and iat <= now + CLOCK_SKEW
        and exp > now - CLOCK_SKEW
        and 0 < exp - iat <= MAX_ASSERTION_LIFETIME
    )
    if not short_lived:
        raise GrantError(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.",
        )


def verify_signature(assertion: Assertion, public_key: rsa.RSAPublicKey) -> None:
    """Check the RS256 signature, as Google does against the account's keys."""
    try:
        public_key.verify(assertion.signature, assertion.signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise GrantError("invalid_grant", "Invalid JWT Signature.") from exc


def load_public_key(key: str | bytes | rsa.RSAPublicKey | rsa.RSAPrivateKey) -> rsa.RSAPublicKey:
    """Accept a PEM public key, a PEM private key or a key object."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return key
    pem = key.encode() if isinstance(key, str) else key
    if b"PRIVATE KEY" in pem:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("service-account keys must be RSA")
        return private.public_key()
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("service-account keys must be RSA")
    return public


class TokenAuthority:
    """Issues access tokens for JWT grants and answers whether a token is valid.

    Signatures are checked for every account whose key is known (registered,
    or generated by :func:`make_service_account_info` in this process). Other
    accounts are accepted on structure alone unless ``strict_accounts`` is set,
    so a relay in another process can use a key file the emulator never saw.
    """

    def __init__(
        self,
        lifetime: float = 3600.0,
        public_keys: Mapping[str, Any] | None = None,
        strict_accounts: bool = False,
    ) -> None:
        self.lifetime = lifetime
        self.strict_accounts = strict_accounts
        self._keys: dict[str, rsa.RSAPublicKey] = {
            email: load_public_key(key) for email, key in (public_keys or {}).items()
        }
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def register(self, info: Mapping[str, Any]) -> None:
        """Trust a service account: remember its public key by client email."""
        with self._lock:
            self._keys[str(info["client_email"])] = load_public_key(str(info["private_key"]))

    def grant(self, form: Mapping[str, str], own_token_uri: str) -> IssuedToken:
        """Check one token request and issue a token, or raise :class:`GrantError`."""
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_BEARER_GRANT:
            raise GrantError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        if not form.get("assertion"):
            raise GrantError("invalid_request", "Missing required parameter: assertion")
        assertion = parse_assertion(form["assertion"])
        check_claims(assertion, own_token_uri)
        self._check_account(assertion)
        return self.issue(str(assertion.claims["iss"]), str(assertion.claims.get("scope", "")))

    def _check_account(self, assertion: Assertion) -> None:
        email = str(assertion.claims["iss"])
        key = self._public_key(email)
        if key is not None:
            verify_signature(assertion, key)
        elif self.strict_accounts:
            raise GrantError("invalid_grant", "Invalid grant: account not found")

    def _public_key(self, email: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            key = self._keys.get(email)
        if key is None:
            with _GENERATED_LOCK:
                key = _GENERATED_KEYS.get(email)
        return key

    def issue(self, email: str, scope: str) -> IssuedToken:
        """A fresh access token for ``email``; also how federated exchanges mint theirs."""
        now = time.time()
        token = IssuedToken(
            token=TOKEN_PREFIX + secrets.token_urlsafe(32),
            client_email=email,
            scope=scope,
            issued_at=now,
            expires_at=now + self.lifetime,
        )
        with self._lock:
            self._tokens[token.token] = token
        return token

    def check(self, token: str) -> str | None:
        """None when ``token`` is live; otherwise Google's ErrorInfo reason."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            return "ACCESS_TOKEN_TYPE_UNSUPPORTED"
        if issued.expired:
            return "ACCESS_TOKEN_EXPIRED"
        return None

    def issued(self) -> list[IssuedToken]:
        """Every token issued so far, oldest first."""
        with self._lock:
            return sorted(self._tokens.values(), key=lambda token: token.issued_at)

    def expire_all(self) -> int:
        """End every token's life now, so the next model call gets a 401."""
        now = time.time()
        with self._lock:
            for key, token in self._tokens.items():
                self._tokens[key] = IssuedToken(token.token, token.client_email, token.scope, token.issued_at, now)
            return len(self._tokens)


def token_response(token: IssuedToken) -> dict[str, Any]:
    """The token endpoint's success body, shaped like Google's."""
    lifetime = token.expires_at - token.issued_at
    expires_in: int | float = int(lifetime) if float(lifetime).is_integer() else lifetime
    return {"access_token": token.token, "expires_in": expires_in, "token_type": "Bearer"}


def make_service_account_info(token_uri: str, project_id: str = "demo-project") -> dict[str, str]:
    """A fresh service-account key file (as a dict) whose token_uri is the emulator.

    The RSA key is generated on the spot, so no secret is ever checked in. Its
    public half is remembered in-process, so emulators in this process verify
    signatures made with it.
    """
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    account = f"emulator-{secrets.token_hex(4)}"
    email = f"{account}@{project_id}.iam.gserviceaccount.com"
    with _GENERATED_LOCK:
        _GENERATED_KEYS[email] = private_key.public_key()
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)).zfill(21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{account}%40{project_id}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
