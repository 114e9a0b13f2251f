"""App Service Authentication: the principal header is trusted only when the config says the platform sets it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from shared.auth.easy_auth import principal_identity
from shared.auth.settings import EasyAuthSettings
from shared.errors import Forbidden, Unauthorized
from tests.relay_configs import CHAT_URL, OBJECT_ID_CLAIM, USER, chat_body, chat_config, error_of, principal


def easy_auth(**fields: Any) -> EasyAuthSettings:
    return EasyAuthSettings(platform_sets_principal=True, **fields)


def test_the_principal_becomes_the_identity() -> None:
    identity = principal_identity({"x-ms-client-principal": USER}, easy_auth(models=["azure"]))
    assert identity is not None
    assert (identity.subject, identity.method, identity.models) == (
        "easyauth:aad/user-42",
        "easy_auth",
        frozenset({"azure"}),
    )


def test_the_platform_id_headers_win() -> None:
    headers = {"x-ms-client-principal": USER, "x-ms-client-principal-id": "p-1", "x-ms-client-principal-idp": "github"}
    identity = principal_identity(headers, easy_auth())
    assert identity is not None and identity.subject == "easyauth:github/p-1"


def test_no_header_means_no_principal() -> None:
    assert principal_identity({}, easy_auth()) is None


@pytest.mark.parametrize("header", ["not base64 !", base64.b64encode(b"[1, 2]").decode(), principal([])])
def test_malformed_or_anonymous_principals_are_refused(header: str) -> None:
    with pytest.raises(Unauthorized):
        principal_identity({"x-ms-client-principal": header}, easy_auth())


def encoded(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


USER_CLAIM = {"typ": OBJECT_ID_CLAIM, "val": "user-42"}
DEEP = b"[" * 100_000 + b"]" * 100_000
WRONG_SHAPES = {
    "claims-int": encoded(b'{"claims": 1}'),
    "claims-string": encoded(b'{"claims": "oid"}'),
    "claims-object": encoded(b'{"claims": {"typ": "oid", "val": "x"}}'),
    "claims-of-non-objects": encoded(b'{"claims": [1, "x", null, []]}'),
    "claim-val-object": principal([{"typ": OBJECT_ID_CLAIM, "val": {"id": 1}}]),  # type: ignore[dict-item]
    "claim-typ-list": principal([{"typ": [OBJECT_ID_CLAIM], "val": "user-42"}]),  # type: ignore[dict-item]
    "auth-typ-object": principal([USER_CLAIM], auth_typ={"a": 1}),
    "role-typ-list": principal([USER_CLAIM], role_typ=["roles"]),
    "deep-nesting": encoded(b'{"claims": ' + DEEP + b"}"),
    "deep-extra-field": encoded(b'{"claims": [], "x": ' + DEEP + b"}"),
    "huge-int": encoded(b'{"claims": [], "x": ' + b"9" * 5000 + b"}"),
    "not-utf8": encoded(b'{"claims": [{"typ": "oid", "val": "\xff\xfe"}]}'),
    "not-json": encoded(b"{nope"),
    "json-string": encoded(b'"user-42"'),
    "non-ascii": "\u00e9" * 8,
    "padding-only": "====",
    "huge": principal([USER_CLAIM, {"typ": "name", "val": "x" * 200_000}]),
}


@pytest.mark.parametrize("header", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
def test_principals_of_the_wrong_shape_are_unauthorized(header: str) -> None:
    with pytest.raises(Unauthorized):
        principal_identity({"x-ms-client-principal": header}, easy_auth(required_roles=["Relay.Use"]))


def test_a_principal_without_roles_is_still_a_principal() -> None:
    identity = principal_identity({"x-ms-client-principal": principal([USER_CLAIM])}, easy_auth())
    assert identity is not None and identity.subject == "easyauth:aad/user-42"


def test_required_roles() -> None:
    assert principal_identity({"x-ms-client-principal": USER}, easy_auth(required_roles=["Relay.Use"]))
    with pytest.raises(Forbidden, match="role"):
        principal_identity({"x-ms-client-principal": USER}, easy_auth(required_roles=["Relay.Admin"]))


def test_trust_must_be_stated() -> None:
    with pytest.raises(ValueError, match="platform_sets_principal"):
        EasyAuthSettings(platform_sets_principal=False)  # type: ignore[arg-type]


def test_the_relay_trusts_the_header_when_configured(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    relay = start_relay(chat_config(azure.url, auth={"easy_auth": {"platform_sets_principal": True}})).url
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers={"x-ms-client-principal": USER})
    assert response.status_code == 200, response.text
    assert error_of(httpx.post(f"{relay}{CHAT_URL}", json=chat_body()), 401)["code"] == "invalid_api_key"


def test_a_forged_header_is_ignored_when_easy_auth_is_off(
    start_relay: Callable[..., ThreadedServer], azure: Any
) -> None:
    relay = start_relay(chat_config(azure.url)).url
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers={"x-ms-client-principal": USER})
    assert "no credentials" in error_of(response, 401)["message"]


@pytest.mark.parametrize("shape", ["claims-int", "deep-nesting", "claims-of-non-objects"])
def test_the_relay_answers_malformed_principals_with_401(
    start_relay: Callable[..., ThreadedServer], azure: Any, shape: str
) -> None:
    relay = start_relay(chat_config(azure.url, auth={"easy_auth": {"platform_sets_principal": True}})).url
    for method, path in (("POST", CHAT_URL), ("POST", "/api/chat"), ("GET", "/api/v1/models")):
        response = httpx.request(
            method, f"{relay}{path}", json=chat_body(), headers={"x-ms-client-principal": WRONG_SHAPES[shape]}
        )
        assert error_of(response, 401)["code"] == "invalid_api_key"
