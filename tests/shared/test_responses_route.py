"""``POST /api/v1/responses`` end to end: the real openai-python SDK, every alias, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.builders import AUTH_HEADERS, RELAY_TEST_KEY
from tests.relay_configs import chat_config
from tests.shared.test_http_api import assert_openai_error

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
JAPANESE = "東京は晴れ☀️ café 🎉"


@pytest.fixture(scope="module")
def sdk(every_provider_relay_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{every_provider_relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def http(every_provider_relay_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=every_provider_relay_url, timeout=30, headers=AUTH_HEADERS) as client:
        yield client


def event_types(events: list[Any]) -> list[str]:
    return [event.type for event in events]


@pytest.mark.parametrize("alias", ALIASES)
def test_create_streams_the_semantic_events_in_order(sdk: openai.OpenAI, alias: str) -> None:
    prompt = inline_prompt(text=JAPANESE, chunks=3, prompt_tokens=7, completion_tokens=5)
    events = list(sdk.responses.create(model=alias, input=prompt, stream=True))
    assert event_types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(event.delta for event in events if event.type == "response.output_text.delta") == JAPANESE
    final = events[-1].response
    assert (final.status, final.model, final.output_text) == ("completed", alias, JAPANESE)
    assert final.id.startswith("resp_") and final.output[0].id.startswith("msg_")
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (7, 5, 12)


@pytest.mark.parametrize("alias", ALIASES)
def test_the_stream_helper_builds_the_final_response(sdk: openai.OpenAI, alias: str) -> None:
    with sdk.responses.stream(model=alias, input=inline_prompt(chunks=4), instructions="Be brief.") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == DEFAULT_TEXT
    assert final.instructions == "Be brief."


@pytest.mark.parametrize("alias", ALIASES)
def test_create_without_stream_returns_one_response(sdk: openai.OpenAI, alias: str) -> None:
    response = sdk.responses.create(model=alias, input=inline_prompt(text=JAPANESE), max_output_tokens=64)
    assert (response.object, response.status, response.output_text) == ("response", "completed", JAPANESE)
    assert response.output[0].type == "message" and response.output[0].status == "completed"
    assert response.max_output_tokens == 64 and response.usage is not None


@pytest.mark.parametrize("alias", ALIASES)
def test_function_calls_over_two_turns(sdk: openai.OpenAI, alias: str) -> None:
    call = {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_paris"}
    first = sdk.responses.create(
        model=alias,
        input=inline_prompt(text="", tool_calls=[call]),
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"} and calls[0].id.startswith("fc_")
    history: list[Any] = [{"role": "user", "content": "Weather in Paris?"}, *first.output]
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"sky": "clear"}'})
    history.append({"role": "user", "content": inline_prompt(text="It is clear in Paris.")})
    with sdk.responses.stream(model=alias, input=history, tools=[WEATHER_TOOL]) as stream:  # type: ignore[list-item]
        second = stream.get_final_response()
    assert second.output_text == "It is clear in Paris."


@pytest.mark.parametrize("alias", ALIASES)
def test_a_streamed_function_call_has_its_argument_events(sdk: openai.OpenAI, alias: str) -> None:
    call = {"name": "get_weather", "arguments": {"city": "Oslo"}, "pieces": 3}
    prompt = inline_prompt(text="", tool_calls=[call])
    events = list(sdk.responses.create(model=alias, input=prompt, tools=[WEATHER_TOOL], stream=True))  # type: ignore[list-item]
    names = event_types(events)
    assert names[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.function_call_arguments.delta" in names
    assert names[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    done = events[-3]
    assert json.loads(done.arguments) == {"city": "Oslo"}
    assert events[-2].item.type == "function_call" and events[-2].item.name == "get_weather"


@pytest.mark.parametrize("alias", ALIASES)
def test_a_mid_stream_failure_ends_in_response_failed(sdk: openai.OpenAI, alias: str) -> None:
    prompt = inline_prompt(chunks=8, error_after=5)
    events = list(sdk.responses.create(model=alias, input=prompt, stream=True))
    assert event_types(events).count("response.failed") == 1
    assert events[-1].type == "response.failed"
    assert not {"response.completed", "response.incomplete"} & set(event_types(events))
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None and failed.error.message
    with sdk.responses.stream(model=alias, input=prompt) as stream, pytest.raises(RuntimeError, match="completed"):
        stream.get_final_response()


@pytest.mark.parametrize("alias", ALIASES)
def test_a_mid_stream_failure_without_stream_is_an_http_error(sdk: openai.OpenAI, alias: str) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        sdk.responses.create(model=alias, input=inline_prompt(chunks=8, error_after=5))
    assert raised.value.status_code >= 500


# Each emulator speaks its service's own word for "stopped at the token limit".
LENGTH_STOP = {"azure": "length", "bedrock": "max_tokens", "vertex": "length", "vertex-native": "MAX_TOKENS"}


@pytest.mark.parametrize("alias", ALIASES)
def test_a_length_stop_is_incomplete(sdk: openai.OpenAI, alias: str) -> None:
    prompt = inline_prompt(text="cut short", finish_reason=LENGTH_STOP[alias])
    events = list(sdk.responses.create(model=alias, input=prompt, stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    response = sdk.responses.create(model=alias, input=prompt)
    assert (response.status, response.output_text) == ("incomplete", "cut short")


def test_the_azure_v1_path_serves_the_same_route(every_provider_relay_url: str) -> None:
    base = f"{every_provider_relay_url}/api/openai/v1"
    with openai.OpenAI(base_url=base, api_key=RELAY_TEST_KEY, max_retries=0) as client:
        response = client.responses.create(model="azure", input=inline_prompt(text="via azure path"))
    assert response.output_text == "via azure path"


@pytest.mark.parametrize("path", ["/api/v1/responses", "/api/openai/v1/responses"])
def test_an_unauthenticated_request_is_a_401_json(every_provider_relay_url: str, path: str) -> None:
    response = httpx.post(f"{every_provider_relay_url}{path}", json={"model": "azure", "input": "hi"})
    assert assert_openai_error(response, 401)["code"]
    assert response.headers["www-authenticate"] == "Bearer"


FILE_PART = "input[0].content[0].type"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "azure", "input": "hi", "store": True}, "store"),
        ({"model": "azure", "input": "hi", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"model": "azure", "input": "hi", "conversation": "conv_1"}, "conversation"),
        ({"model": "azure", "input": "hi", "background": True}, "background"),
        ({"model": "azure", "input": "hi", "max_tokens": 5}, "max_tokens"),
        ({"model": "azure", "input": [{"role": "user", "content": [{"type": "input_file"}]}]}, FILE_PART),
    ],
)
def test_refusals_are_400_naming_the_parameter(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    error = assert_openai_error(http.post("/api/v1/responses", json=body), 400)
    assert error["param"] == param


def test_an_unknown_alias_is_a_404_json(http: httpx.Client) -> None:
    error = assert_openai_error(http.post("/api/v1/responses", json={"model": "nope", "input": "hi"}), 404)
    assert error["param"] == "model"


def test_the_request_reaches_the_upstream_as_chat(sdk: openai.OpenAI, azure: Any) -> None:
    sdk.responses.create(
        model="azure",
        instructions="Answer in French.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}],
        max_output_tokens=99,
        temperature=0.3,
        text={"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": True}},
    )
    sent = azure.recorder.records[-1].body
    system, user = {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"}
    assert sent["messages"] == [system, user]
    assert (sent["max_completion_tokens"], sent["temperature"]) == (99, 0.3)
    schema = {"name": "answer", "schema": {"type": "object"}, "strict": True}
    assert sent["response_format"] == {"type": "json_schema", "json_schema": schema}


PAGE = "https://chat.example.com"


@pytest.fixture
def cors_relay(start_relay: Callable[..., ThreadedServer], azure: Any) -> str:
    return start_relay(chat_config(azure.url, cors={"allowed_origins": [PAGE]})).url


def test_an_allowed_origin_can_read_a_response(cors_relay: str) -> None:
    headers = {**AUTH_HEADERS, "Origin": PAGE}
    body = {"model": "azure", "input": inline_prompt(text="for the page")}
    response = httpx.post(f"{cors_relay}/api/v1/responses", json=body, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "completed"
    assert response.headers["access-control-allow-origin"] == PAGE
    refused = httpx.post(f"{cors_relay}/api/v1/responses", json=body, headers={"Origin": PAGE})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == PAGE


# Azure OpenAI's chat stream carries no reasoning text, so its emulator plays none.
@pytest.mark.parametrize("alias", ["bedrock", "vertex", "vertex-native"])
def test_reasoning_streams_as_a_reasoning_item_that_can_be_sent_back(sdk: openai.OpenAI, alias: str) -> None:
    prompt = inline_prompt(text="answer", reasoning="step by step")
    events = list(sdk.responses.create(model=alias, input=prompt, stream=True))
    thought = "".join(event.delta for event in events if event.type == "response.reasoning_text.delta")
    assert thought == "step by step"
    final = events[-1].response
    # Gemini also signs its last text part: that signature comes as one more (sealed) reasoning item.
    expected = ["reasoning", "message", "reasoning"] if alias == "vertex-native" else ["reasoning", "message"]
    assert [item.type for item in final.output] == expected
    history: list[Any] = [{"role": "user", "content": "why?"}, *final.output]
    history.append({"role": "user", "content": inline_prompt(text="again")})
    assert sdk.responses.create(model=alias, input=history).output_text == "again"


def test_harmless_fields_follow_the_chat_parameter_policy(
    sdk: openai.OpenAI, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator
) -> None:
    """``metadata`` and friends reach each provider as on the chat route: Azure as sent, Bedrock mapped."""
    fields: dict[str, Any] = {"metadata": {"team": "search"}, "safety_identifier": "u-1", "prompt_cache_key": "c-1"}
    for alias in ("azure", "bedrock"):
        sdk.responses.create(model=alias, input="hi", **fields, text={"verbosity": "low"})
    (sent_to_azure,) = [record.body for record in azure.recorder.records]
    assert {name: sent_to_azure[name] for name in fields} == fields and sent_to_azure["verbosity"] == "low"
    (sent_to_bedrock,) = [record.body for record in bedrock.recorder.records]
    assert sent_to_bedrock["requestMetadata"] == fields["metadata"]
