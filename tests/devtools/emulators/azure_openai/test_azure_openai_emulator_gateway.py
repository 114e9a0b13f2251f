"""What the Azure OpenAI emulator checks before it answers: keys, API version, request body and routes.

The relay authenticates upstream and builds these requests; the emulator
must refuse what Azure refuses and never record a key it was sent.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import (
    API_KEY,
    API_VERSION,
    DEPLOYMENT,
    chat_url,
    last_record,
    stream,
    streamed_text,
    user,
)

pytestmark = pytest.mark.timeout(30)


def test_missing_auth_is_401(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    response = httpx.post(chat_url(server), json={"messages": user("hi")})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied due to invalid subscription key")
    assert last_record(emulator).auth == "none"


def test_wrong_api_key_is_401_and_keys_are_never_recorded(
    server: ThreadedServer, emulator: AzureOpenAIEmulator
) -> None:
    with (
        openai.AzureOpenAI(
            azure_endpoint=server.url, api_key="nope-secret", api_version=API_VERSION, max_retries=0
        ) as wrong,
        pytest.raises(openai.AuthenticationError),
    ):
        wrong.chat.completions.create(model=DEPLOYMENT, messages=user("hi"))

    with openai.AzureOpenAI(azure_endpoint=server.url, azure_ad_token="tok-secret", api_version=API_VERSION) as bearer:
        assert bearer.chat.completions.create(model=DEPLOYMENT, messages=user("hi")).choices
    assert [record.auth for record in emulator.recorder.records] == ["api-key", "bearer"]
    assert "secret" not in json.dumps(emulator.recorder.as_dict())


def test_missing_api_version_is_404(server: ThreadedServer) -> None:
    response = httpx.post(
        chat_url(server, api_version=None), headers={"api-key": API_KEY}, json={"messages": user("hi")}
    )

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_missing_messages_is_400(server: ThreadedServer) -> None:
    response = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json={"stream": True})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'messages' is a required property"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_bad_inline_scenario_is_400(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        stream(client, '#emulate {"txet": "typo"}')

    assert "txet" in str(caught.value.message)


def test_list_content_parts_carry_inline_scenarios(client: openai.AzureOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": inline_prompt(text="from parts")},
                {"type": "text", "text": "ignored"},
            ],
        }
    ]
    completion = client.chat.completions.create(model=DEPLOYMENT, messages=messages)

    assert completion.choices[0].message.content == "from parts"


def test_v1_route_takes_the_deployment_from_the_body(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    with openai.OpenAI(base_url=f"{server.url}/openai/v1/", api_key=API_KEY, max_retries=0) as client:
        prompt = inline_prompt(text="v1!")
        chunks = list(client.chat.completions.create(model="mini", messages=user(prompt), stream=True))

    assert streamed_text(chunks) == "v1!"
    assert last_record(emulator).key == "mini" and last_record(emulator).auth == "bearer"
