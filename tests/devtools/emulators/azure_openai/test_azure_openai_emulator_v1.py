"""The emulator's v1 API and managed-identity endpoint: keys as bearer tokens, Entra tokens it issued."""

from __future__ import annotations

import httpx
import openai
import pytest

from devtools.emulators.azure_identity import IDENTITY_PATH
from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import API_KEY, last_record, user

pytestmark = pytest.mark.timeout(30)


def v1_client(server: ThreadedServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/openai/v1/", api_key=key, max_retries=0)


def identity_token(server: ThreadedServer) -> str:
    params = {"api-version": "2019-08-01", "resource": "https://cognitiveservices.azure.com"}
    response = httpx.get(f"{server.url}{IDENTITY_PATH}", params=params, headers={"X-IDENTITY-HEADER": "h"})
    response.raise_for_status()
    assert response.json()["token_type"] == "Bearer" and int(response.json()["expires_on"]) > 0
    return str(response.json()["access_token"])


def test_a_wrong_key_as_bearer_is_401_on_v1(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    with v1_client(server, "not-the-key") as client, pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="mini", messages=user("hi"))
    assert (last_record(emulator).status, last_record(emulator).auth) == (401, "bearer")


def test_the_key_in_api_key_works_on_v1_too(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    body = {"model": "mini", "messages": user(inline_prompt(text="keyed"))}
    response = httpx.post(f"{server.url}/openai/v1/chat/completions", json=body, headers={"api-key": API_KEY})
    assert response.json()["choices"][0]["message"]["content"] == "keyed"
    assert last_record(emulator).auth == "api-key"


def test_api_version_query_is_tolerated_on_v1(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    body = {"model": "mini", "messages": user("hi")}
    url = f"{server.url}/openai/v1/chat/completions?api-version=preview"
    assert httpx.post(url, json=body, headers={"api-key": API_KEY}).status_code == 200
    assert last_record(emulator).path == "/openai/v1/chat/completions"


def test_an_issued_entra_token_is_recorded_as_entra(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    with v1_client(server, identity_token(server)) as client:
        assert client.chat.completions.create(model="mini", messages=user(inline_prompt(text="ok"))).choices
    assert last_record(emulator).auth == "entra"


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"api-version": "2019-08-01", "resource": "r"}, {}, 401),
        ({"resource": "r"}, {"X-IDENTITY-HEADER": "h"}, 400),
        ({"api-version": "2019-08-01"}, {"X-IDENTITY-HEADER": "h"}, 400),
    ],
)
def test_identity_endpoint_refuses_what_app_service_refuses(
    server: ThreadedServer, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = httpx.get(f"{server.url}{IDENTITY_PATH}", params=params, headers=headers)
    assert response.status_code == status
    assert "access_token" not in response.json()
