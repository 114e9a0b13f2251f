"""Hostile bearer tokens: every malformed header, claim shape or encoding is a 401, never a 500.

Each row is a token an attacker can send without any key (header tricks) or
one signed by the tenant with claims of the wrong shape; the relay must
refuse all of them the same calm way.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared.errors import Unauthorized
from tests.relay_configs import CHAT_URL, bearer, chat_body, error_of
from tests.shared.auth.entra_signer import JwksServer, SigningKey, Verifier, b64url, claims, raw_token

ISSUE_TOKEN = "eyJhbGciOiAiUlMyNTYiLCAia2lkIjogNX0.e30.c2ln"
RS256 = {"alg": "RS256", "kid": "key-1"}
DEEP = b"[" * 100_000 + b"]" * 100_000


def unsigned(header: bytes, payload: bytes = b"{}") -> str:
    return f"{b64url(header)}.{b64url(payload)}.c2ln"


HEADER_TRICKS: dict[str, str] = {
    "issue-10-kid-int": ISSUE_TOKEN,
    "kid-list": unsigned(b'{"alg":"RS256","kid":["key-1"]}'),
    "kid-null": unsigned(b'{"alg":"RS256","kid":null}'),
    "alg-list": unsigned(b'{"alg":["RS256"],"kid":"key-1"}'),
    "alg-none": unsigned(b'{"alg":"none","kid":"key-1"}'),
    "crit-string": unsigned(b'{"alg":"RS256","kid":"key-1","crit":"exp"}'),
    "crit-empty": unsigned(b'{"alg":"RS256","kid":"key-1","crit":[]}'),
    "crit-object": unsigned(b'{"alg":"RS256","kid":"key-1","crit":{"a":1}}'),
    "crit-unsupported": unsigned(b'{"alg":"RS256","kid":"key-1","crit":["x-unknown"]}'),
    "crit-int-values": unsigned(b'{"alg":"RS256","kid":"key-1","crit":[1]}'),
    "header-list": unsigned(b"[1]"),
    "header-deep": unsigned(b'{"a":' + DEEP + b"}"),
    "header-not-utf8": unsigned(b'{"alg":"\xff"}'),
    "header-bad-json": unsigned(b'{"alg":'),
    "header-huge-int": unsigned(b'{"alg":"RS256","kid":"key-1","x":' + b"9" * 5000 + b"}"),
    "header-nan": unsigned(b'{"alg":"RS256","kid":"key-1","x":NaN}'),
    "header-not-base64": "eyJ!!!.e30.c2ln",
    "header-padded": "eyJ=.e30.c2ln",
    "payload-not-base64": f"{b64url(json.dumps(RS256).encode())}.@@@.c2ln",
    "huge": unsigned(json.dumps(RS256).encode(), b'{"a":"' + b"x" * 1_000_000 + b'"}'),
    "four-segments": unsigned(json.dumps(RS256).encode()) + ".x",
}


@pytest.mark.anyio
@pytest.mark.parametrize("bad", list(HEADER_TRICKS.values()), ids=list(HEADER_TRICKS))
async def test_header_tricks_are_unauthorized(verifier: Verifier, jwks: JwksServer, bad: str) -> None:
    with pytest.raises(Unauthorized):
        await verifier(required_roles=["Relay.Use"]).verify(bad)


SIGNED_SHAPES: dict[str, dict[str, Any] | bytes] = {
    "roles-int": claims(roles=5),
    "roles-objects": claims(roles=[{}]),
    "roles-string": claims(roles="Relay.Use"),
    "roles-null-item": claims(roles=[None]),
    "roles-nested": claims(roles=[["Relay.Use"]]),
    "scp-int": claims(scp=5),
    "scp-list": claims(scp=["Relay.Chat"]),
    "scp-object": claims(scp={"Relay.Chat": True}),
    "oid-object": claims(oid={"id": 1}),
    "tid-int": claims(tid=5),
    "no-subject": claims(oid=None, sub=None),
    "sub-int": claims(sub=5),
    "aud-ints": claims(aud=[1]),
    "aud-object": claims(aud={"api://llm-relay": 1}),
    "iss-list": claims(iss=["x"]),
    "exp-string": claims(exp="tomorrow"),
    "nbf-list": claims(nbf=[1]),
    "iat-string": claims(iat="now"),
    "exp-overflow": b'{"iss":"x","aud":"api://llm-relay","exp":1e400}',
    "iat-nan": json.dumps(claims()).replace('"iat": ', '"iat": NaN, "was": ').encode(),
    "payload-list": b"[1]",
    "payload-deep": b'{"a":' + DEEP + b"}",
    "payload-not-utf8": b'{"a":"\xff"}',
}


@pytest.mark.anyio
@pytest.mark.parametrize("payload", list(SIGNED_SHAPES.values()), ids=list(SIGNED_SHAPES))
async def test_signed_claims_of_the_wrong_shape_are_unauthorized(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey], payload: dict[str, Any] | bytes
) -> None:
    with pytest.raises(Unauthorized):
        await verifier(required_roles=["Relay.Use"]).verify(raw_token(signing_keys[0], RS256, payload))


@pytest.mark.anyio
async def test_a_signed_crit_header_the_relay_does_not_understand_is_unauthorized(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    headers = [{**RS256, "crit": ["x-unknown"]}, {**RS256, "crit": "exp"}, {**RS256, "crit": ["b64"], "b64": False}]
    for header in headers:
        with pytest.raises(Unauthorized):
            await verifier().verify(raw_token(signing_keys[0], header, claims()))


@pytest.mark.anyio
async def test_well_shaped_grants_still_admit(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(required_roles=["Relay.Use"])
    identity = await check.verify(raw_token(signing_keys[0], RS256, claims(roles=["Other", "Relay.Use"])))
    assert identity.subject.endswith("/user-object-id")


ROUTES = [("POST", CHAT_URL), ("POST", "/api/chat"), ("GET", "/api/v1/models"), ("POST", "/api/auth/browser-token")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_authenticated_route_answers_the_issue_token_with_401(entra_relay: str, method: str, path: str) -> None:
    response = httpx.request(method, f"{entra_relay}{path}", json=chat_body(), headers=bearer(ISSUE_TOKEN))
    assert error_of(response, 401)["code"] == "invalid_api_key"
    assert "Traceback" not in response.text


@pytest.mark.parametrize("roles", [5, [{}]])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_signed_token_with_malformed_roles_is_401_on_every_route(
    entra_relay: str, signing_keys: list[SigningKey], method: str, path: str, roles: Any
) -> None:
    credential = raw_token(signing_keys[0], RS256, claims(roles=roles))
    response = httpx.request(method, f"{entra_relay}{path}", json=chat_body(), headers=bearer(credential))
    assert error_of(response, 401)["code"] == "invalid_api_key"
