"""Where a Vertex backend's Google credentials come from, and fetching a token with them.

Three modes, chosen by the backend's settings:

* ``credentials_setting`` names an app setting holding a service-account key
  (``"type": "service_account"``) or a workload identity federation
  configuration (``"type": "external_account"``);
* otherwise Application Default Credentials: ``GOOGLE_APPLICATION_CREDENTIALS``
  (any type google-auth knows), the gcloud user login, or the metadata server.

Everything here is synchronous and may touch the network (google-auth's
refresh is blocking), so callers run :meth:`GoogleCredentials.fetch` in a
worker thread; see :mod:`.tokens`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
from google.oauth2 import service_account

from ...errors import UpstreamUnavailable
from .tokens import AccessToken

logger = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ADC_PATH_SETTING = "GOOGLE_APPLICATION_CREDENTIALS"
SETTING_TYPES = ("service_account", "external_account")
TOKEN_READ_TIMEOUT = 30.0
_AWS_SUBJECT_TOKEN = "urn:ietf:params:aws:token-type:aws4_request"


# google-auth ships without complete type hints; its credentials are typed loosely here.
Credentials = Any


class CredentialsProblem(ValueError):
    """A credentials document the relay cannot use; the message never quotes it."""


def parse_credentials_json(raw: str | None) -> dict[str, Any]:
    """The JSON document of a credentials app setting, checked for a usable type."""
    if not raw or not raw.strip():
        raise CredentialsProblem("is not set")
    try:
        info = json.loads(raw)
    except ValueError:
        raise CredentialsProblem("does not hold valid JSON") from None
    if not isinstance(info, dict) or info.get("type") not in SETTING_TYPES:
        raise CredentialsProblem(
            f"must hold a JSON object whose type is one of {', '.join(SETTING_TYPES)}; "
            f"for other credential types use Application Default Credentials"
        )
    return info


def credentials_from_info(info: Mapping[str, Any]) -> Credentials:
    """Build credentials from a key file or WIF configuration, without network calls."""
    factory: Any = (
        service_account.Credentials.from_service_account_info
        if info["type"] == "service_account"
        else _external_account_type(info).from_info
    )
    return factory(dict(info), scopes=SCOPES)


def _external_account_type(info: Mapping[str, Any]) -> Any:
    """Workload identity federation: an AWS role, an executable, or a file/URL subject token."""
    if info.get("subject_token_type") == _AWS_SUBJECT_TOKEN:
        from google.auth import aws

        return aws.Credentials
    source = info.get("credential_source")
    if isinstance(source, Mapping) and source.get("executable") is not None:
        from google.auth import pluggable

        return pluggable.Credentials
    from google.auth import identity_pool

    return identity_pool.Credentials


class BoundedRequest(google.auth.transport.requests.Request):
    """google-auth's requests transport with a bounded wait (its default is 120 s)."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self._timeout = timeout

    def __call__(
        self, url: Any, method: Any = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kwargs: Any
    ) -> Any:
        bounded = timeout or self._timeout
        return super().__call__(url, method, body, headers, timeout=bounded, **kwargs)  # type: ignore[no-untyped-call]


class GoogleCredentials:
    """One backend's credentials, resolved on first use and refreshed on demand.

    ADC is resolved lazily, on the first fetch, because looking for it may
    probe the metadata server, which must not delay the app's start.
    """

    def __init__(
        self, backend: str, info: Mapping[str, Any] | None, environ: Mapping[str, str], connect_timeout: float
    ) -> None:
        self._backend = backend
        self._credentials = credentials_from_info(info) if info is not None else None
        self._adc_path = environ.get(ADC_PATH_SETTING) or None
        self._request = BoundedRequest((connect_timeout, TOKEN_READ_TIMEOUT))

    def fetch(self) -> AccessToken:
        """A fresh access token from the token endpoint; blocking.

        Failures become a retryable ``upstream_auth_failed``: another backend
        may have working credentials. The cause is logged, never sent to clients.
        """
        try:
            return self._fetch()
        except (google.auth.exceptions.GoogleAuthError, OSError, ValueError) as exc:
            logger.error("backend %s could not get a Google access token: %s", self._backend, exc)
            raise UpstreamUnavailable(
                f"backend {self._backend} could not obtain Google credentials",
                code="upstream_auth_failed",
                retryable=True,
            ) from exc

    def _fetch(self) -> AccessToken:
        credentials = self._resolve()
        fetched_at = time.time()
        credentials.refresh(self._request)
        expiry = credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else None
        return AccessToken(str(credentials.token), fetched_at, expires_at)

    def _resolve(self) -> Credentials:
        if self._credentials is None:
            self._credentials = self._application_default()
        return self._credentials

    def _application_default(self) -> Credentials:
        """ADC, honouring ``GOOGLE_APPLICATION_CREDENTIALS`` from the relay's settings."""
        if self._adc_path is not None:
            with open(self._adc_path, encoding="utf-8") as key_file:
                info = json.load(key_file)
            if isinstance(info, dict) and info.get("type") in SETTING_TYPES:
                return credentials_from_info(info)
        credentials, _project = google.auth.default(scopes=SCOPES, request=self._request)
        return credentials
