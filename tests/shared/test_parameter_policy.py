"""The parameter policy (issue 13, item 4): widely sent parameters are accepted on every alias.

Each is forwarded where the provider takes it, mapped where it has an
equivalent, dropped where it means nothing; only what would silently change
the answer is refused, with a 400 naming the parameter. Checked with the
real openai SDK over HTTP, and against what each emulator received.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from shared.chat_request import parse_chat_request
from shared.errors import InvalidRequest
from shared.policy.enforce import CLIENT_PARAMETERS, Policy, enforce
from tests.builders import only_upstream_body

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
ACCEPTED: dict[str, Any] = {
    "store": False,
    "metadata": {"team": "search", "ticket": "T-1"},
    "service_tier": "auto",
    "prompt_cache_key": "conversation-42",
    "safety_identifier": "user-hash-1",
    "verbosity": "low",
    "logprobs": False,
    "top_logprobs": 0,
    "modalities": ["text"],
    "user": "user-7",
    "parallel_tool_calls": False,
    "response_format": {"type": "text"},
}
WEATHER = {
    "name": "weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_each_parameter_is_accepted(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, name: str
) -> None:
    completion = every_provider_sdk.chat.completions.create(
        model=alias, messages=[{"role": "user", "content": "hi"}], extra_body={name: ACCEPTED[name]}
    )
    assert completion.choices[0].message.content
    assert only_upstream_body(alias_emulators[alias])


@pytest.mark.parametrize("alias", ALIASES)
def test_all_at_once_with_include_obfuscation_streaming(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    stream = every_provider_sdk.chat.completions.create(
        model=alias,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},  # type: ignore[typeddict-unknown-key]
        extra_body=ACCEPTED,
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("Hello")
    assert chunks[-1].usage is not None
    body = only_upstream_body(alias_emulators[alias])
    if alias == "azure":
        forwarded = {"store", "metadata", "service_tier", "prompt_cache_key", "safety_identifier", "verbosity", "user"}
        assert {name: body[name] for name in forwarded} == {name: ACCEPTED[name] for name in forwarded}
        assert "logprobs" not in body and body["stream_options"] == {"include_usage": True}
        assert "parallel_tool_calls" not in body  # without tools OpenAI would answer 400
    elif alias == "vertex":
        dropped = {"store", "metadata", "service_tier", "prompt_cache_key", "safety_identifier", "verbosity", "user"}
        assert not dropped & set(body)
        assert body["modalities"] == ["text"]
    elif alias == "bedrock":
        assert body["requestMetadata"] == ACCEPTED["metadata"]
        assert set(body) <= {"messages", "inferenceConfig", "requestMetadata", "system"}
    else:
        assert set(body) <= {"contents", "generationConfig", "systemInstruction"}


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"store": "yes"}, "store"),
        ({"verbosity": "loud"}, "verbosity"),
        ({"logit_bias": {"token": 1}}, "logit_bias"),
        ({"logit_bias": {"50256": 101}}, "logit_bias.50256"),
        ({"metadata": {f"k{n}": "v" for n in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"stream_options": {"include_obfuscation": "no"}}, "stream_options.include_obfuscation"),
        ({"functions": [WEATHER], "tools": [{"type": "function", "function": WEATHER}]}, "functions"),
        ({"function_call": "auto"}, "function_call"),
    ],
)
def test_refusals_are_400s_naming_the_parameter(
    every_provider_sdk: openai.OpenAI, alias: str, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        every_provider_sdk.chat.completions.create(
            model=alias, messages=[{"role": "user", "content": "hi"}], extra_body=fields
        )
    assert caught.value.body["param"] == param  # type: ignore[index]
    assert param.split(".")[0] in caught.value.body["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("alias", "refused"), [("azure", False), ("bedrock", True), ("vertex", True), ("vertex-native", True)]
)
def test_logit_bias_is_forwarded_to_openai_models_and_refused_elsewhere(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, refused: bool
) -> None:
    call = {"model": alias, "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"50256": -100}}
    if not refused:
        every_provider_sdk.chat.completions.create(**call)
        assert only_upstream_body(alias_emulators[alias])["logit_bias"] == {"50256": -100}
        return
    with pytest.raises(openai.BadRequestError, match="cannot bias tokens") as caught:
        every_provider_sdk.chat.completions.create(**call)
    assert caught.value.body["param"] == "logit_bias"  # type: ignore[index]
    assert not alias_emulators[alias].recorder.records
    every_provider_sdk.chat.completions.create(**{**call, "logit_bias": {}})  # empty changes nothing: accepted


@pytest.mark.parametrize("alias", ALIASES)
def test_legacy_functions_round_trip(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    """A legacy client reads message.function_call, then answers with an assistant function_call and a function turn."""
    messages: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
    completion = every_provider_sdk.chat.completions.create(
        model=alias, messages=messages, functions=[WEATHER], function_call={"name": "weather"}
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.tool_calls is None
    call = choice.message.function_call
    assert call is not None and call.name == "weather"
    assert set(json.loads(call.arguments)) == {"city"}
    body = only_upstream_body(alias_emulators[alias])
    assert "functions" not in body and "function_call" not in body  # providers are sent tools
    alias_emulators[alias].recorder.clear()
    messages += [
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": call.arguments}},
        {"role": "function", "name": "weather", "content": '{"temperature": 21}'},
    ]
    answer = every_provider_sdk.chat.completions.create(model=alias, messages=messages, functions=[WEATHER])
    assert answer.choices[0].message.content and answer.choices[0].finish_reason == "stop"
    # The function's result reached the provider, as a tool result.
    assert "21" in json.dumps(only_upstream_body(alias_emulators[alias]))


@pytest.mark.parametrize("alias", ALIASES)
def test_legacy_functions_streamed(
    every_provider_sdk: openai.OpenAI, alias: str, alias_emulators: dict[str, Any]
) -> None:
    stream = every_provider_sdk.chat.completions.create(
        model=alias,
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        functions=[WEATHER],
        function_call={"name": "weather"},
        stream=True,
    )
    chunks = [c for c in stream if c.choices]
    deltas = [c.choices[0].delta.function_call for c in chunks if c.choices[0].delta.function_call]
    assert deltas[0].name == "weather"
    assert set(json.loads("".join(d.arguments or "" for d in deltas))) == {"city"}
    assert not any(c.choices[0].delta.tool_calls for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "function_call"


def test_parallel_tool_calls_reach_azure_with_tools(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    every_provider_sdk.chat.completions.create(
        model="azure",
        messages=[{"role": "user", "content": "hi"}],
        tools=[{"type": "function", "function": WEATHER}],  # type: ignore[list-item]
        parallel_tool_calls=False,
    )
    assert only_upstream_body(alias_emulators["azure"])["parallel_tool_calls"] is False


def test_functions_without_function_call_let_the_model_answer(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    completion = every_provider_sdk.chat.completions.create(
        model="bedrock", messages=[{"role": "user", "content": "hi"}], functions=[WEATHER]
    )
    assert completion.choices[0].message.content and completion.choices[0].finish_reason == "stop"
    assert only_upstream_body(alias_emulators["bedrock"])["toolConfig"]["tools"][0]["toolSpec"]["name"] == "weather"


def chat(**fields: Any) -> Any:
    return parse_chat_request(
        json.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}], **fields}).encode()
    )


def test_the_operator_policy_judges_the_new_names() -> None:
    """allowed_parameters knows every new name, legacy functions included, by the name the client used."""
    assert {"store", "metadata", "functions", "function_call", "logit_bias", "verbosity"} <= set(CLIENT_PARAMETERS)
    policy = Policy(allowed_parameters=frozenset({"functions", "function_call"}))
    enforce(chat(functions=[WEATHER], function_call={"name": "weather"}), policy, 1)
    with pytest.raises(InvalidRequest) as caught:
        enforce(chat(store=True), policy, 1)
    assert caught.value.param == "store"
    with pytest.raises(InvalidRequest) as caught:
        enforce(chat(functions=[WEATHER]), Policy(allowed_parameters=frozenset({"tools"})), 1)
    assert caught.value.param == "functions"
