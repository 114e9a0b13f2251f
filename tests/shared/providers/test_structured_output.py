"""Structured output with the real openai SDK through the relay, on every alias (issue 13, item 3).

``parse`` with a pydantic model must give back a parsed object whichever
provider the alias reaches, streaming or not; json_object gives JSON; text
is a no-op. The emulators answer with JSON that validates against the
requested schema only when the request reached them in the provider's own
structured-output shape, so each test also checks what the provider saw.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import openai
import pytest
from pydantic import BaseModel

from tests.builders import only_upstream_body

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]


class Address(BaseModel):
    city: str
    postcode: str | None = None


class Person(BaseModel):
    name: str
    age: int
    role: Literal["admin", "user"]
    addresses: list[Address]


@pytest.mark.parametrize("alias", ALIASES)
def test_parse_returns_the_model(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    completion = every_provider_sdk.chat.completions.parse(
        model=alias, messages=[{"role": "user", "content": "Describe a person."}], response_format=Person
    )
    message = completion.choices[0].message
    assert isinstance(message.parsed, Person)
    assert message.parsed.addresses[0].city
    assert message.tool_calls in (None, [])
    assert completion.choices[0].finish_reason == "stop"
    assert_schema_reached_provider(only_upstream_body(alias_emulators[alias]), alias)


@pytest.mark.parametrize("alias", ALIASES)
def test_streamed_parse_returns_the_model(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    with every_provider_sdk.chat.completions.stream(
        model=alias, messages=[{"role": "user", "content": "Describe a person."}], response_format=Person
    ) as stream:
        for _ in stream:
            pass
        completion = stream.get_final_completion()
    assert isinstance(completion.choices[0].message.parsed, Person)
    assert completion.choices[0].finish_reason == "stop"
    assert_schema_reached_provider(only_upstream_body(alias_emulators[alias]), alias)


def assert_schema_reached_provider(body: dict[str, Any], alias: str) -> None:
    """The schema travelled in the provider's own structured-output field."""
    if alias in ("azure", "vertex"):
        assert body["response_format"]["json_schema"]["name"] == "Person"
        assert "addresses" in body["response_format"]["json_schema"]["schema"]["properties"]
    elif alias == "vertex-native":
        config = body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert "addresses" in config["responseJsonSchema"]["properties"]
    else:  # Claude 3.5 Sonnet: no native structured output, so a forced tool
        tool = body["toolConfig"]["tools"][-1]["toolSpec"]
        assert "addresses" in tool["inputSchema"]["json"]["properties"]
        assert body["toolConfig"]["toolChoice"] == {"tool": {"name": tool["name"]}}


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("stream", [False, True])
def test_json_object_answers_json(
    every_provider_sdk: openai.OpenAI, alias: str, stream: bool, alias_emulators: dict[str, Any]
) -> None:
    messages: Any = [{"role": "user", "content": "Answer in JSON: name a colour."}]
    if stream:
        chunks = every_provider_sdk.chat.completions.create(
            model=alias, messages=messages, response_format={"type": "json_object"}, stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    else:
        completion = every_provider_sdk.chat.completions.create(
            model=alias, messages=messages, response_format={"type": "json_object"}
        )
        text = completion.choices[0].message.content or ""
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize("alias", ALIASES)
def test_text_format_is_a_no_op(every_provider_sdk: openai.OpenAI, alias: str, alias_emulators: dict[str, Any]) -> None:
    completion = every_provider_sdk.chat.completions.create(
        model=alias, messages=[{"role": "user", "content": "hi"}], response_format={"type": "text"}
    )
    assert completion.choices[0].message.content.startswith("Hello from the emulator")  # type: ignore[union-attr]
    body = only_upstream_body(alias_emulators[alias])
    assert "outputConfig" not in body and "responseMimeType" not in body.get("generationConfig", {})


def test_scripted_text_still_wins(every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]) -> None:
    """An explicit scenario beats the generated instance, so a test can make a model break the schema."""
    prompt = '#emulate {"text": "{\\"name\\": 1}"}'
    with pytest.raises(Exception, match="validation error"):
        every_provider_sdk.chat.completions.parse(
            model="azure", messages=[{"role": "user", "content": prompt}], response_format=Person
        )
