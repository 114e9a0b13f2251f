"""Keyless cloud access, emulated on one port: the managed identity, its issuer, AWS STS and Google STS/IAM.

Serves:

* ``GET /_identity/token`` - App Service's managed-identity endpoint
  (:mod:`.azure_identity`), whose tokens :mod:`.entra_issuer` signs;
* ``GET /{tenant}/.well-known/openid-configuration`` and
  ``GET /{tenant}/discovery/keys`` - the issuer's OIDC discovery and key set;
* ``POST /`` - AWS STS ``AssumeRoleWithWebIdentity`` (:mod:`.aws_sts`);
* ``POST /v1/token`` - Google STS token exchange, and
  ``POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken`` - IAM
  Credentials impersonation (:mod:`.google_sts`);
* ``GET /_emulator/federation`` - how many exchanges each endpoint answered.

The Bedrock and Vertex emulators, given this emulator's ``aws`` and
``google`` parts, accept only the credentials these exchanges issued.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .asgi import Receive, Scope, Send, header, query, read_body, send_bytes, send_json
from .aws_sts import DEV_ROLE_ARN, AwsSts
from .azure_identity import IDENTITY_PATH, ManagedIdentity
from .entra_issuer import EntraIssuer, OnIssue
from .google_sts import (
    DEV_POOL_PROVIDER,
    DEV_SERVICE_ACCOUNT,
    ExchangeRefused,
    GoogleFederation,
    exchange_response,
    impersonation_response,
)

GOOGLE_TOKEN_PATH = "/v1/token"
IMPERSONATION_ROUTE = re.compile(r"^/v1/projects/-/serviceAccounts/(?P<account>[^/:]+):generateAccessToken$")
XML_TYPE = "text/xml"


class FederationEmulator:
    """ASGI app for the identity side of keyless mode; ``url`` is set by whoever serves it."""

    def __init__(self, on_issue: OnIssue | None = None) -> None:
        self.issuer = EntraIssuer(on_issue=on_issue)
        self.identity = ManagedIdentity(self.issuer)
        self.aws = AwsSts(self.issuer, on_issue)
        self.google = GoogleFederation(self.issuer)
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        tenant = f"/{self.issuer.tenant}"
        if method == "GET" and path == IDENTITY_PATH:
            status, document = self.identity.answer(query(scope), header(scope, "x-identity-header"))
            await send_json(send, status, document)
        elif method == "GET" and path == f"{tenant}/.well-known/openid-configuration":
            await send_json(send, 200, self.issuer.discovery(_origin(scope)))
        elif method == "GET" and path == f"{tenant}/discovery/keys":
            await send_json(send, 200, self.issuer.jwks())
        elif method == "GET" and path == "/_emulator/federation":
            await send_json(send, 200, self.counts())
        elif method == "POST":
            await self._post(scope, receive, send, path)
        else:
            await send_json(send, 404, {"error": f"no route {method} {path}"})

    async def _post(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        body = await read_body(receive)
        if path == "/":
            status, xml = self.aws.answer(dict(parse_qsl(body.decode("utf-8", "replace"))))
            await send_bytes(send, status, xml.encode(), XML_TYPE)
            return
        try:
            document = self._google(scope, path, body)
        except ExchangeRefused as refusal:
            await send_json(send, refusal.status, refusal.body)
            return
        await send_json(send, 200, document, headers=[("cache-control", "no-store")])

    def _google(self, scope: Scope, path: str, body: bytes) -> dict[str, Any]:
        if path == GOOGLE_TOKEN_PATH:
            return exchange_response(self.google.exchange(dict(parse_qsl(body.decode("utf-8", "replace")))))
        route = IMPERSONATION_ROUTE.match(path)
        if route is None:
            raise ExchangeRefused(404, {"error": {"code": 404, "message": f"no route POST {path}"}})
        _scheme, _, bearer = (header(scope, "authorization") or "").partition(" ")
        return impersonation_response(self.google.impersonate(route["account"], bearer.strip()))

    def counts(self) -> dict[str, int]:
        """Exchanges answered so far, by endpoint."""
        return {
            "managed_identity": self.identity.requests,
            "aws_sts": self.aws.exchanges,
            "google_sts": self.google.exchanges,
            "google_impersonation": self.google.impersonations,
        }


def _origin(scope: Scope) -> str:
    host = header(scope, "host") or "127.0.0.1"
    return f"{scope.get('scheme', 'http')}://{host}"


def dev_federation(on_issue: OnIssue | None = None) -> FederationEmulator:
    """The keyless ``make dev`` setup: the dev role trusts the issuer, the dev pool provider too."""
    emulator = FederationEmulator(on_issue)
    emulator.aws.trust(DEV_ROLE_ARN)
    emulator.google.add_provider(DEV_POOL_PROVIDER)
    emulator.google.bind(DEV_SERVICE_ACCOUNT)
    return emulator
