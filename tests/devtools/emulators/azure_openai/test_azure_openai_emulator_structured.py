"""The Azure emulator checks structured-output and tool_choice requests as the service does, and answers them."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import DEPLOYMENT, user

LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}},
    },
}


class Answer(BaseModel):
    title: str
    score: float


def test_parse_gets_an_instance_of_the_schema(client: openai.AzureOpenAI) -> None:
    completion = client.chat.completions.parse(model=DEPLOYMENT, messages=user("rate it"), response_format=Answer)
    assert isinstance(completion.choices[0].message.parsed, Answer)


def test_json_object_answers_an_object(client: openai.AzureOpenAI) -> None:
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user("reply in JSON"), response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"response_format": {"type": "json_object"}}, "messages"),  # no "json" in the messages
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": []}}}, "response_format"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"parallel_tool_calls": False}, "parallel_tool_calls"),
        ({"tools": [LOOKUP], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ],
)
def test_malformed_requests_are_400(client: openai.AzureOpenAI, fields: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=DEPLOYMENT, messages=user("hi"), extra_body=fields)
    assert caught.value.body["param"] == param  # type: ignore[index]


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "lookup"}}])
def test_a_forced_tool_is_called_with_arguments_from_its_schema(client: openai.AzureOpenAI, choice: Any) -> None:
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user("look it up"), tools=[LOOKUP], tool_choice=choice
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "lookup"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"q": "example", "n": 1}  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_a_scripted_answer_wins(client: openai.AzureOpenAI) -> None:
    prompt = '#emulate {"text": "not json"}'
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(prompt), tools=[LOOKUP], tool_choice="required"
    )
    assert completion.choices[0].message.content == "not json"
