"""Apps written for Azure OpenAI switch to the relay by changing only the endpoint.

The real ``openai.AzureOpenAI`` client puts the deployment in the path
(``/openai/deployments/{name}/chat/completions?api-version=...``) and sends its
key as ``api-key``; Azure's v1 path (``/openai/v1/chat/completions``) is what
Microsoft points the plain ``OpenAI`` client at. Both run on every alias.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.builders import RELAY_TEST_KEY

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALL = {"name": "get_weather", "arguments": {"city": "東京"}, "id": "call_1"}


def user(content: str) -> list[openai.types.chat.ChatCompletionMessageParam]:
    return [{"role": "user", "content": content}]


@pytest.fixture(scope="module")
def azure_sdk(every_provider_relay_url: str) -> Iterator[openai.AzureOpenAI]:
    """``AzureOpenAI`` as an Azure app configures it: the relay base with ``/api``, the relay key, any api_version."""
    with openai.AzureOpenAI(
        azure_endpoint=f"{every_provider_relay_url}/api",
        api_key=RELAY_TEST_KEY,
        api_version="2024-10-21",
        max_retries=0,
    ) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def v1_sdk(every_provider_relay_url: str) -> Iterator[openai.OpenAI]:
    """The plain client on Azure's v1 path, as Microsoft documents it for ``/openai/v1``."""
    with openai.OpenAI(
        base_url=f"{every_provider_relay_url}/api/openai/v1", api_key=RELAY_TEST_KEY, max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture(params=["deployments", "v1"])
def sdk(request: pytest.FixtureRequest, azure_sdk: openai.AzureOpenAI, v1_sdk: openai.OpenAI) -> openai.OpenAI:
    return azure_sdk if request.param == "deployments" else v1_sdk


@pytest.mark.parametrize("alias", ALIASES)
def test_a_stream_arrives_whole(sdk: openai.OpenAI, alias: str) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model=alias, messages=user(inline_prompt(chunks=5)), stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == DEFAULT_TEXT
    assert {chunk.model for chunk in chunks} == {alias}
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


@pytest.mark.parametrize("alias", ALIASES)
def test_a_whole_completion(sdk: openai.OpenAI, alias: str) -> None:
    completion = sdk.chat.completions.create(model=alias, messages=user("Hello"), max_tokens=64)
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.model == alias and completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("alias", ALIASES)
def test_tool_calls_stream_and_collect(sdk: openai.OpenAI, alias: str) -> None:
    prompt = user(inline_prompt(text="", tool_calls=[CALL]))
    chunks = list(sdk.chat.completions.create(model=alias, messages=prompt, tools=[WEATHER_TOOL], stream=True))
    deltas = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert deltas[0].function is not None and deltas[0].function.name == "get_weather"
    assert json.loads("".join(d.function.arguments or "" for d in deltas if d.function)) == {"city": "東京"}
    whole = sdk.chat.completions.create(model=alias, messages=prompt, tools=[WEATHER_TOOL])
    calls = whole.choices[0].message.tool_calls or []
    assert [(call.function.name, json.loads(call.function.arguments)) for call in calls] == [  # type: ignore[union-attr]
        ("get_weather", {"city": "東京"})
    ]
    assert whole.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("alias", ALIASES)
def test_a_mid_stream_failure_is_raised_by_the_sdk(sdk: openai.OpenAI, alias: str) -> None:
    stream = sdk.chat.completions.create(
        model=alias, messages=user(inline_prompt(chunks=8, error_after=4)), stream=True
    )
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk)
    assert any(chunk.choices and chunk.choices[0].delta.content for chunk in received)


def test_an_unknown_deployment_is_not_found(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert raised.value.code == "model_not_found"


def test_the_path_names_the_alias_whatever_the_body_says(every_provider_relay_url: str) -> None:
    with openai.AzureOpenAI(
        azure_endpoint=f"{every_provider_relay_url}/api",
        azure_deployment="bedrock",
        api_key=RELAY_TEST_KEY,
        api_version="2099-01-01-preview",
        max_retries=0,
    ) as sdk:
        completion = sdk.chat.completions.create(model="gpt-4o", messages=user("Hello"))
    assert completion.model == "bedrock" and completion.choices[0].message.content == DEFAULT_TEXT


def test_a_body_without_model_is_served_by_the_deployment(every_provider_relay_url: str) -> None:
    response = httpx.post(
        f"{every_provider_relay_url}/api/openai/deployments/vertex/chat/completions",
        params={"api-version": "anything"},
        json={"messages": user("Hello")},
        headers={"api-key": RELAY_TEST_KEY},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "vertex"


def test_a_bad_body_is_still_named(every_provider_relay_url: str) -> None:
    response = httpx.post(
        f"{every_provider_relay_url}/api/openai/deployments/azure/chat/completions",
        json={"messages": user("hi"), "temperature": "hot"},
        headers={"api-key": RELAY_TEST_KEY},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "temperature"


def test_a_wrong_api_key_is_an_authentication_error(every_provider_relay_url: str) -> None:
    with (
        openai.AzureOpenAI(
            azure_endpoint=f"{every_provider_relay_url}/api", api_key="rk-wrong", api_version="v1", max_retries=0
        ) as sdk,
        pytest.raises(openai.AuthenticationError),
    ):
        sdk.chat.completions.create(model="azure", messages=user("hi"))


def test_an_azure_ad_token_travels_as_bearer(every_provider_relay_url: str) -> None:
    with openai.AzureOpenAI(
        azure_endpoint=f"{every_provider_relay_url}/api",
        azure_ad_token=RELAY_TEST_KEY,
        api_version="2024-10-21",
        max_retries=0,
    ) as sdk:
        completion = sdk.chat.completions.create(model="azure", messages=user("Hello"))
    assert completion.choices[0].message.content == DEFAULT_TEXT


@pytest.mark.parametrize("alias", ALIASES)
def test_the_responses_api_through_azure_openai(sdk: openai.OpenAI, alias: str) -> None:
    """``AzureOpenAI.responses`` posts to ``/openai/responses``, the v1 client to ``/openai/v1/responses``."""
    events = list(sdk.responses.create(model=alias, input=inline_prompt(chunks=4), stream=True))
    assert "".join(event.delta for event in events if event.type == "response.output_text.delta") == DEFAULT_TEXT
    assert events[-1].type == "response.completed" and events[-1].response.model == alias
    whole = sdk.responses.create(model=alias, input=inline_prompt(chunks=4))
    assert whole.output_text == DEFAULT_TEXT and whole.status == "completed"
