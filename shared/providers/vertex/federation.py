"""Keyless Vertex: workload identity federation with the app's managed identity as the subject.

google-auth's ``external_account`` credentials (``identity_pool.Credentials``)
do the whole exchange: the subject token, supplied here by
:class:`~shared.auth.managed_identity.ManagedIdentityToken`, is traded at
Google STS for a federated token, and, when a service account is named,
that is traded at IAM Credentials' ``generateAccessToken`` for the account's
own. No key file exists anywhere.

The result feeds the same single-flight :class:`~.tokens.TokenCache` as every
other credential mode: one refresh per expiry window, however many streams
wait, in a worker thread. A refused exchange becomes a non-retryable
``upstream_auth_failed`` 503 and is remembered for a while
(:class:`~shared.auth.exchange_backoff.ExchangeBackoff`), so retries do not
reach STS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from google.auth import identity_pool

from ...auth.exchange_backoff import ExchangeBackoff
from ...auth.managed_identity import ManagedIdentityToken
from .credentials import SCOPES, TOKEN_READ_TIMEOUT, BoundedRequest
from .settings import WorkloadIdentitySettings
from .tokens import AccessToken

JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"


class EntraSubjectToken(identity_pool.SubjectTokenSupplier):
    """google-auth's subject-token hook, answered with the managed identity's Entra token."""

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def get_subject_token(self, context: Any, request: Any) -> str:
        return self._token()


class FederatedGoogleCredentials:
    """One backend's federated credentials; :meth:`fetch` is blocking and runs in a worker thread."""

    def __init__(
        self, backend: str, identity: WorkloadIdentitySettings, environ: Mapping[str, str], connect_timeout: float
    ) -> None:
        token = ManagedIdentityToken(identity.audience, identity.managed_identity_client_id, environ)
        supplier = EntraSubjectToken(token)
        factory: Any = identity_pool.Credentials  # google-auth's constructors are untyped
        self._credentials: Any = factory(
            audience=identity.pool_provider,
            subject_token_type=JWT_TOKEN_TYPE,
            token_url=identity.token_url,
            subject_token_supplier=supplier,
            service_account_impersonation_url=identity.impersonation_url,
            scopes=list(SCOPES),
        )
        self._request = BoundedRequest((connect_timeout, TOKEN_READ_TIMEOUT))
        self._backoff = ExchangeBackoff(backend, "the managed identity's exchange at Google STS")

    def fetch(self) -> AccessToken:
        """A fresh access token through the exchange, or the remembered refusal."""
        return self._backoff.run(self._exchange)

    def _exchange(self) -> AccessToken:
        fetched_at = time.time()
        self._credentials.refresh(self._request)
        expiry = self._credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else None
        return AccessToken(str(self._credentials.token), fetched_at, expires_at)
