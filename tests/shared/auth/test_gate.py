"""The gate: which mode a request uses, development-only anonymous access, and refusing to run unauthenticated."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.local_host import APP_ROOT
from devtools.threaded_server import ThreadedServer
from shared.access import Access
from shared.application import Application
from shared.auth.browser_tokens import BrowserTokens
from shared.auth.gate import Gate
from shared.auth.identity import ANONYMOUS, Identity
from shared.auth.settings import AuthSettings
from shared.config import load_config, parse_config
from shared.errors import ConfigError, Forbidden, Unauthorized
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, azure_backend
from tests.relay_configs import CHAT_URL, USER, bearer, chat_body, chat_config, error_of, relay_key

KEYS = {"relay_keys": [relay_key("tests", RELAY_TEST_KEY)]}


def gate(**auth: Any) -> Gate:
    return Gate(AuthSettings.model_validate(auth))


@pytest.mark.anyio
async def test_development_mode_admits_requests_without_credentials() -> None:
    assert await gate(allow_anonymous=True).authenticate({}) == ANONYMOUS


@pytest.mark.anyio
async def test_development_mode_still_refuses_wrong_credentials() -> None:
    with pytest.raises(Unauthorized, match="not valid"):
        await gate(allow_anonymous=True, **KEYS).authenticate(httpx.Headers(bearer("rk-wrong-key-material")))


@pytest.mark.anyio
async def test_anonymous_access_is_off_by_default() -> None:
    with pytest.raises(Unauthorized, match="no credentials"):
        await gate(**KEYS).authenticate({})


@pytest.mark.anyio
async def test_a_trusted_platform_principal_comes_before_the_authorization_header() -> None:
    guard = gate(easy_auth={"platform_sets_principal": True}, **KEYS)
    identity = await guard.authenticate({"x-ms-client-principal": USER, "authorization": "Bearer platform-token"})
    assert identity.method == "easy_auth"
    assert (await guard.authenticate(httpx.Headers(bearer(RELAY_TEST_KEY)))).method == "relay_key"


@pytest.mark.anyio
async def test_a_closed_access_admits_nobody() -> None:
    config = parse_config({"backends": [azure_backend("a", "http://127.0.0.1:9")], "models": {"m": ["a"]}})
    with pytest.raises(Unauthorized):
        await Access.closed(config).authenticate(httpx.Headers(bearer(RELAY_TEST_KEY)))


def environment(auth: dict[str, Any] | None, **extra: str) -> dict[str, str]:
    document: dict[str, Any] = {"backends": [azure_backend("a", "http://127.0.0.1:9")], "models": {"m": ["a"]}}
    if auth is not None:
        document["auth"] = auth
    return {"RELAY_CONFIG": json.dumps(document), "AZURE_TEST_KEY": AZURE_TEST_KEY, **extra}


def test_a_relay_without_authentication_refuses_to_start() -> None:
    with pytest.raises(ConfigError) as caught:
        Application.from_environment(environment(None))
    assert caught.value.problems[0][0] == "auth"
    assert "no client authentication" in caught.value.problems[0][1]


def test_anonymous_access_is_refused_on_azure() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environment({"allow_anonymous": True}, WEBSITE_INSTANCE_ID="abc123"))
    assert caught.value.problems == [
        ("auth.allow_anonymous", "is for local development only and is refused on Azure (WEBSITE_INSTANCE_ID is set)")
    ]


@pytest.mark.anyio
async def test_anonymous_access_is_logged_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.access"):
        relay = Application.from_environment(environment({"allow_anonymous": True}))
    await relay.aclose()
    assert any("allow_anonymous is ON" in record.getMessage() for record in caplog.records)


def test_make_dev_config_is_anonymous(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    relay = start_relay(chat_config(azure.url, auth={"allow_anonymous": True})).url
    assert httpx.post(f"{relay}{CHAT_URL}", json=chat_body()).status_code == 200
    assert error_of(httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers=bearer("rk-wrong")), 401)


def test_the_dev_config_takes_the_readme_key_or_none(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    dev = json.loads((APP_ROOT / "devtools" / "config" / "relay.dev.json").read_text())
    relay = start_relay(chat_config(azure.url, auth=dev["auth"])).url
    assert httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers=bearer("dev-relay-key")).status_code == 200
    assert httpx.post(f"{relay}{CHAT_URL}", json=chat_body()).status_code == 200


class BrokenTokens(BrowserTokens):
    """A verifier with a bug: it raises something that is not a RelayError."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__("a-signing-secret-of-at-least-thirty-two-chars", max_ttl_seconds=600)
        self.failure = failure

    def verify(self, token: str) -> Identity:
        raise self.failure


@pytest.mark.anyio
@pytest.mark.parametrize("failure", [TypeError("unhashable"), RecursionError(), OverflowError(), KeyError("kid")])
async def test_a_verifier_bug_is_a_401_logged_once_without_the_credential(
    caplog: pytest.LogCaptureFixture, failure: Exception
) -> None:
    credential = "rbt1.hostile-credential-material.sig"
    guard = Gate(AuthSettings.model_validate(KEYS), tokens=BrokenTokens(failure))
    with caplog.at_level(logging.DEBUG, logger="shared.auth"), pytest.raises(Unauthorized, match="not valid"):
        await guard.authenticate(httpx.Headers(bearer(credential)))
    records = [record for record in caplog.records if record.name.startswith("shared.auth")]
    assert len(records) == 1
    assert type(failure).__name__ in records[0].getMessage()
    assert records[0].exc_info is None
    assert "hostile-credential-material" not in caplog.text


@pytest.mark.anyio
async def test_relay_errors_from_a_verifier_pass_through_untouched() -> None:
    refusal = Forbidden("the signed-in user lacks a required role")
    guard = Gate(AuthSettings.model_validate(KEYS), tokens=BrokenTokens(refusal))
    with pytest.raises(Forbidden) as caught:
        await guard.authenticate(httpx.Headers(bearer("rbt1.anything.sig")))
    assert caught.value is refusal


ODD_CREDENTIALS = {
    "lone-surrogate-key": {"authorization": "Bearer rk-\ud800"},
    "lone-surrogate-api-key": {"api-key": "\udfff"},
    "surrogate-browser-token": {"authorization": "Bearer rbt1.e30.\ud800"},
    "surrogate-jwt": {"authorization": "Bearer eyJ\ud800.e30.c2ln"},
    "latin-1": {"authorization": "Bearer rk-\u00e9\u00e9"},
    "control-character": {"api-key": "rk-\x00\x07"},
    "inner-space": {"authorization": "Bearer rk-a rk-b"},
    "huge": {"authorization": "Bearer " + "A" * 100_000},
}


@pytest.mark.anyio
@pytest.mark.parametrize("headers", list(ODD_CREDENTIALS.values()), ids=list(ODD_CREDENTIALS))
async def test_credentials_that_no_mode_issues_are_refused_before_any_verifier(
    caplog: pytest.LogCaptureFixture, headers: dict[str, str]
) -> None:
    tokens = BrowserTokens("a-signing-secret-of-at-least-thirty-two-chars", max_ttl_seconds=600)
    guard = Gate(AuthSettings.model_validate(KEYS), tokens=tokens)
    with caplog.at_level(logging.DEBUG, logger="shared.auth"), pytest.raises(Unauthorized, match="printable"):
        await guard.authenticate(headers)
    assert not caplog.records
