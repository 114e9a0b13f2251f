"""Relay API keys: hashed in the config, accepted as Bearer or api-key, each limited to its aliases."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from devtools.threaded_server import ThreadedServer
from shared.auth.cli import main as cli
from shared.auth.relay_keys import KeyRing, config_entry, hash_key, mint_key
from shared.auth.settings import RelayKey
from tests.relay_configs import CHAT_URL, bearer, chat_body, chat_config, error_of, relay_key
from tests.secret_guard import register_secret

CI_KEY = register_secret("rk-ci-7b1e0c2f9d8a4b6c", "CI_KEY")
WIDE_KEY = register_secret("rk-wide-3c5a9e1d7f2b4a60", "WIDE_KEY")


@pytest.fixture
def relay(start_relay: Callable[..., ThreadedServer], azure: Any) -> str:
    auth = {"relay_keys": [relay_key("ci", CI_KEY, ["azure"]), relay_key("wide", WIDE_KEY)]}
    return start_relay(chat_config(azure.url, auth=auth)).url


def test_minted_keys_are_random_and_hash_to_their_entry() -> None:
    first, second = mint_key(), mint_key()
    assert first != second and first.startswith("rk-") and len(first) > 40
    entry = json.loads(config_entry("ci", first, ["azure"]))
    assert entry == {"name": "ci", "sha256": hashlib.sha256(first.encode()).hexdigest(), "models": ["azure"]}
    assert hash_key(first) == entry["sha256"]


def test_key_ring_finds_only_the_exact_key() -> None:
    ring = KeyRing([RelayKey(name="ci", sha256=hash_key(CI_KEY), models=["azure"], profile="batch")])
    identity = ring.identify(CI_KEY)
    assert identity is not None
    assert (identity.subject, identity.models, identity.profile) == ("key:ci", frozenset({"azure"}), "batch")
    assert ring.identify(CI_KEY + "x") is None
    assert ring.identify(CI_KEY[:-1]) is None


def test_bearer_key_works_with_the_openai_sdk(relay: str, azure: Any) -> None:
    with openai.OpenAI(base_url=f"{relay}/api/v1", api_key=CI_KEY, max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="azure", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_api_key_header_works(relay: str, azure: Any) -> None:
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers={"api-key": CI_KEY})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no credentials"),
        (bearer("rk-not-a-configured-key"), "not valid"),
        ({"api-key": "rk-not-a-configured-key"}, "not valid"),
        ({"Authorization": f"Basic {CI_KEY}"}, "Bearer"),
        ({"Authorization": "Bearer"}, "Bearer"),
        ({"api-key": ""}, "empty"),
    ],
)
def test_missing_wrong_and_malformed_credentials_are_401(relay: str, headers: dict[str, str], reason: str) -> None:
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers=headers)
    error = error_of(response, 401)
    assert error["code"] == "invalid_api_key" and error["type"] == "authentication_error"
    assert reason in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_sdk_sees_a_wrong_key_as_authentication_error(relay: str) -> None:
    with (
        openai.OpenAI(base_url=f"{relay}/api/v1", api_key="rk-wrong-wrong-wrong", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError),
    ):
        sdk.chat.completions.create(model="azure", messages=[{"role": "user", "content": "hi"}])


def test_a_key_cannot_use_an_alias_outside_its_list(relay: str) -> None:
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(model="other"), headers=bearer(CI_KEY))
    error = error_of(response, 403)
    assert (error["code"], error["param"]) == ("model_not_allowed", "model")


def test_clients_name_aliases_never_backends_or_deployments(relay: str) -> None:
    for name in ("azure-east", "gpt-4o-mini"):
        response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(model=name), headers=bearer(WIDE_KEY))
        assert error_of(response, 404)["code"] == "model_not_found"


def test_models_lists_only_the_callers_aliases(relay: str) -> None:
    def listed(key: str) -> list[str]:
        response = httpx.get(f"{relay}/api/v1/models", headers=bearer(key))
        return [model["id"] for model in response.json()["data"]]

    assert listed(CI_KEY) == ["azure"]
    assert listed(WIDE_KEY) == ["azure", "other"]
    assert error_of(httpx.get(f"{relay}/api/v1/models"), 401)["code"] == "invalid_api_key"


def test_retrieving_a_model_answers_only_the_callers_aliases(relay: str) -> None:
    def retrieve(key: str, alias: str) -> httpx.Response:
        return httpx.get(f"{relay}/api/v1/models/{alias}", headers={"api-key": key})

    assert retrieve(CI_KEY, "azure").json()["id"] == "azure"
    assert retrieve(WIDE_KEY, "other").json()["id"] == "other"
    # An alias granted to other keys answers exactly as one that does not exist.
    not_granted, missing = error_of(retrieve(CI_KEY, "other"), 404), error_of(retrieve(CI_KEY, "nowhere"), 404)
    assert not_granted["code"] == missing["code"] == "model_not_found"
    assert not_granted["message"] == str(missing["message"]).replace("nowhere", "other")
    assert error_of(httpx.get(f"{relay}/api/v1/models/azure"), 401)["code"] == "invalid_api_key"


def test_health_needs_no_credentials(relay: str) -> None:
    assert httpx.get(f"{relay}/api/health").status_code == 200


def test_cli_mints_a_key_and_its_config_line() -> None:
    out = io.StringIO()
    assert cli(["mint-key", "--name", "ci", "--models", "azure, other"], out=out) == 0
    key_line, entry_line = out.getvalue().splitlines()
    key = key_line.rsplit(" ", 1)[1]
    entry = json.loads(entry_line.split(": ", 1)[1])
    assert entry == {"name": "ci", "sha256": hash_key(key), "models": ["azure", "other"]}


def test_cli_hashes_an_existing_key_from_stdin() -> None:
    out = io.StringIO()
    assert cli(["hash-key", "--name", "old", "--profile", "batch"], out=out, stdin=io.StringIO(CI_KEY + "\n")) == 0
    assert json.loads(out.getvalue()) == {
        "name": "old",
        "sha256": hash_key(CI_KEY),
        "models": ["*"],
        "profile": "batch",
    }
    assert cli(["hash-key", "--name", "old"], out=out, stdin=io.StringIO("\n")) == 2
