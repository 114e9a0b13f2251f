"""Keyless Bedrock: the app's managed identity federated into an IAM role, refreshed by botocore.

The exchange is botocore's own: ``AssumeRoleWithWebIdentityCredentialFetcher``
calls STS with boto3's STS client (unsigned, as the operation requires) and
the token from :class:`~shared.auth.managed_identity.ManagedIdentityToken`;
``DeferredRefreshableCredentials`` holds the result and refreshes it before
expiry (15 minutes ahead, non-blocking; 10 minutes ahead, every signer waits).
Its refresh lock lets one caller at a time exchange, and the others reuse
what that caller got, so a burst of streams on expired credentials costs one
exchange. Signing with such credentials may block, so the transport signs in
a worker thread (:func:`~.transport.signing_may_block`).

A refused exchange becomes a non-retryable ``upstream_auth_failed`` 503, and
is remembered for a while (:class:`~shared.auth.exchange_backoff.ExchangeBackoff`),
so clients retrying do not turn into a stream of calls to STS.

botocore logs whole requests and responses at DEBUG: with federated
credentials those hold the Entra token (the STS request body), the temporary
keys (the STS response) and the session token (every signed request). Those
loggers' DEBUG records are dropped once a federated session exists, so a
debug log level never writes a credential.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.session
from botocore.credentials import (
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)

from ...auth.exchange_backoff import ExchangeBackoff
from ...auth.managed_identity import ManagedIdentityToken
from .settings import BedrockSettings, WebIdentitySettings

METHOD = "assume-role-with-web-identity"
# botocore's loggers that write request or response bodies, or signed headers, at DEBUG.
CREDENTIAL_BEARING_LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.auth", "botocore.hooks")


def _not_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


def silence_credential_debug_logs() -> None:
    """Drop DEBUG records of the loggers that would write federated credentials; idempotent."""
    for name in CREDENTIAL_BEARING_LOGGERS:
        logger = logging.getLogger(name)
        if _not_debug not in logger.filters:
            logger.addFilter(_not_debug)


class _FederatedProvider(CredentialProvider):  # type: ignore[misc]
    """The only link of this session's credential chain: the federated, refreshable credentials."""

    METHOD = METHOD

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def federated_session(settings: BedrockSettings, environ: Mapping[str, str]) -> boto3.session.Session:
    """A boto3 session whose credentials come from ``settings.web_identity``; no network until first use."""
    identity = settings.web_identity
    if identity is None:
        raise ValueError("federated_session needs web_identity")
    silence_credential_debug_logs()
    session = botocore.session.Session()
    credentials = DeferredRefreshableCredentials(
        refresh_using=_refresher(settings.name, settings.region, identity, environ), method=METHOD
    )
    session.register_component("credential_provider", CredentialResolver([_FederatedProvider(credentials)]))
    return boto3.session.Session(botocore_session=session, region_name=settings.region)


def _refresher(backend: str, region: str, identity: WebIdentitySettings, environ: Mapping[str, str]) -> Any:
    """The refresh callable: botocore's fetcher behind the backoff, in a plain session of its own."""
    sts_session = botocore.session.Session()
    fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
        client_creator=functools.partial(
            sts_session.create_client, region_name=region, endpoint_url=identity.sts_endpoint_url
        ),
        web_identity_token_loader=ManagedIdentityToken(identity.audience, identity.managed_identity_client_id, environ),
        role_arn=identity.role_arn,
        extra_args={"RoleSessionName": identity.session_name},
    )
    backoff = ExchangeBackoff(backend, "the managed identity's exchange at AWS STS")
    return functools.partial(backoff.run, fetcher.fetch_credentials)


def session_for(settings: BedrockSettings, environ: Mapping[str, str]) -> boto3.session.Session:
    """The federated session for a ``web_identity`` backend; otherwise a plain one (keys or default chain)."""
    return federated_session(settings, environ) if settings.web_identity is not None else boto3.session.Session()
