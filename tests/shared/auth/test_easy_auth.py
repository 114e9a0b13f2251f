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
from tests.relay_configs import CHAT_URL, USER, chat_body, chat_config, error_of, principal


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
