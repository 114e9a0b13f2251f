"""Google's Security Token Service and IAM Credentials, emulated for workload identity federation.

``google-auth``'s ``external_account`` credentials trade a subject token
(here the managed identity's Entra token) at ``POST /v1/token`` for a
federated access token, then, if a service account is impersonated, trade
that at ``generateAccessToken`` for the account's own token. Both steps are
checked as Google checks them: the pool provider named in ``audience`` must
exist, the subject token must verify against the provider's issuer (its
signature against the issuer's published keys, its ``aud`` against the
provider's allowed audience), and impersonation needs a binding of the
federated principal to the account.

Tokens come from the same :class:`~.google_oauth.TokenAuthority` the Vertex
emulator checks bearer tokens against in keyless mode, so a model call is
accepted only with a token one of these exchanges issued.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .entra_issuer import FEDERATION_AUDIENCE, EntraIssuer, TokenInvalid
from .google_oauth import IssuedToken, TokenAuthority

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
DEV_POOL_PROVIDER = (
    "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/relay/providers/entra"
)
DEV_SERVICE_ACCOUNT = "relay-vertex@demo-project.iam.gserviceaccount.com"
UNAUTHENTICATED = "Request had invalid authentication credentials."
PERMISSION_DENIED = "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."


@dataclass(frozen=True)
class PoolProvider:
    """An OIDC workload identity pool provider: the issuer it trusts and the audience it allows."""

    issuer: str
    allowed_audience: str


class ExchangeRefused(Exception):
    """A refusal Google would send: HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def _invalid_grant(description: str) -> ExchangeRefused:
    return ExchangeRefused(400, {"error": "invalid_grant", "error_description": description})


class GoogleFederation:
    """The pool providers, the impersonation bindings and a count of each kind of exchange."""

    def __init__(self, issuer: EntraIssuer, authority: TokenAuthority | None = None) -> None:
        self.issuer = issuer
        self.authority = authority or TokenAuthority(strict_accounts=True)
        self.exchanges = 0
        self.impersonations = 0
        self._providers: dict[str, PoolProvider] = {}
        self._bindings: set[str] = set()
        self._federated: dict[str, str] = {}  # federated token -> principal
        self._lock = threading.Lock()

    def add_provider(self, name: str = DEV_POOL_PROVIDER, audience: str = FEDERATION_AUDIENCE) -> None:
        """Create a pool provider trusting this issuer for ``audience``."""
        with self._lock:
            self._providers[name.removeprefix("https:")] = PoolProvider(self.issuer.issuer, audience)

    def bind(self, service_account: str) -> None:
        """Grant the pool's principals ``roles/iam.workloadIdentityUser`` on ``service_account``."""
        with self._lock:
            self._bindings.add(service_account)

    def exchange(self, form: Mapping[str, str]) -> IssuedToken:
        """STS: one subject token in, one federated access token out, or :class:`ExchangeRefused`."""
        with self._lock:
            self.exchanges += 1
            provider = self._providers.get(form.get("audience", ""))
        if form.get("grant_type") != TOKEN_EXCHANGE_GRANT:
            raise ExchangeRefused(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        if form.get("subject_token_type") != JWT_TOKEN_TYPE or not form.get("subject_token"):
            raise ExchangeRefused(400, {"error": "invalid_request", "error_description": "Invalid subject token"})
        if provider is None:
            raise _invalid_grant("The audience in the request does not match a workload identity pool provider.")
        try:
            claims = self.issuer.verify(form["subject_token"], provider.allowed_audience, provider.issuer)
        except TokenInvalid as exc:
            raise _invalid_grant(f"The subject token is invalid: {exc}.") from exc
        principal = f"principal://{form['audience'].lstrip('/')}/subject/{claims.get('sub')}"
        token = self.authority.issue(principal, form.get("scope", ""))
        if self.issuer.on_issue is not None:
            self.issuer.on_issue(token.token, "Google STS federated token")
        with self._lock:
            self._federated[token.token] = principal
        return token

    def impersonate(self, service_account: str, bearer: str) -> IssuedToken:
        """IAM Credentials ``generateAccessToken`` for ``service_account``, authorised by a federated token."""
        with self._lock:
            self.impersonations += 1
            principal = self._federated.get(bearer)
            bound = service_account in self._bindings
        if principal is None or self.authority.check(bearer) is not None:
            raise ExchangeRefused(401, _iam_error(401, UNAUTHENTICATED, "UNAUTHENTICATED"))
        if not bound:
            raise ExchangeRefused(403, _iam_error(403, PERMISSION_DENIED, "PERMISSION_DENIED"))
        token = self.authority.issue(service_account, "https://www.googleapis.com/auth/cloud-platform")
        if self.issuer.on_issue is not None:
            self.issuer.on_issue(token.token, "Google service-account access token")
        return token


def _iam_error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def exchange_response(token: IssuedToken) -> dict[str, Any]:
    """STS's success body."""
    return {
        "access_token": token.token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": max(int(token.expires_at - token.issued_at), 0),
    }


def impersonation_response(token: IssuedToken) -> dict[str, Any]:
    """``generateAccessToken``'s success body."""
    expire_time = datetime.fromtimestamp(token.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"accessToken": token.token, "expireTime": expire_time}
