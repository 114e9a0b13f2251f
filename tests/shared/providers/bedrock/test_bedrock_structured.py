"""Bedrock's structured output paths and parallel tool use, through the relay with the real SDK (issue 13).

Native (``outputConfig.textFormat``) for models that take it, a forced tool
for the rest, whose input reaches the client as content; and
``parallel_tool_calls: false`` as Anthropic's ``disable_parallel_tool_use``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import inline_prompt
from shared.providers.bedrock.structured import uses_native
from tests.builders import BEDROCK_ENV, bedrock_backend, serve_relay

CLAUDE_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Colour(BaseModel):
    name: str
    hex: str


@pytest.fixture
def relay_sdk(bedrock_emulator: BedrockEmulator) -> Iterator[tuple[openai.OpenAI, BedrockEmulator]]:
    """Aliases over the emulator: claude45 (auto -> native), llama (auto -> tool), forced-native, forced-tool."""
    url = bedrock_emulator.url
    backends = [
        bedrock_backend("claude45", url, model_id=CLAUDE_45),
        bedrock_backend("llama", url, model_id=LLAMA),
        bedrock_backend("llama-native", url, model_id=LLAMA, structured_output="native"),
        bedrock_backend("claude45-tool", url, model_id=CLAUDE_45, structured_output="tool"),
    ]
    config = {"backends": backends, "models": {b["name"]: [b["name"]] for b in backends}}
    bedrock_emulator.recorder.clear()
    bedrock_emulator.book.clear()
    with (
        serve_relay(config, BEDROCK_ENV) as relay,
        openai.OpenAI(base_url=f"{relay}/api/v1", api_key="relay-client-key", max_retries=0) as sdk,
    ):
        yield sdk, bedrock_emulator


def sent(emulator: BedrockEmulator) -> dict[str, Any]:
    body: dict[str, Any] = emulator.recorder.records[-1].body
    return body


@pytest.mark.parametrize("alias", ["claude45", "llama-native"])
def test_native_structured_output(relay_sdk: tuple[openai.OpenAI, BedrockEmulator], alias: str) -> None:
    sdk, emulator = relay_sdk
    completion = sdk.chat.completions.parse(
        model=alias, messages=[{"role": "user", "content": "a colour"}], response_format=Colour
    )
    assert isinstance(completion.choices[0].message.parsed, Colour)
    text_format = sent(emulator)["outputConfig"]["textFormat"]
    assert text_format["type"] == "json_schema"
    assert text_format["structure"]["jsonSchema"]["name"] == "Colour"
    assert json.loads(text_format["structure"]["jsonSchema"]["schema"])["required"] == ["name", "hex"]
    assert "toolConfig" not in sent(emulator)


@pytest.mark.parametrize("alias", ["llama", "claude45-tool"])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_answers_as_content(
    relay_sdk: tuple[openai.OpenAI, BedrockEmulator], alias: str, stream: bool
) -> None:
    sdk, emulator = relay_sdk
    messages: Any = [{"role": "user", "content": "a colour"}]
    schema = {"name": "Colour", "schema": Colour.model_json_schema(), "strict": True}
    response_format: Any = {"type": "json_schema", "json_schema": schema}
    if stream:
        chunks = list(
            sdk.chat.completions.create(model=alias, messages=messages, response_format=response_format, stream=True)
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        completion = sdk.chat.completions.create(model=alias, messages=messages, response_format=response_format)
        text = completion.choices[0].message.content or ""
        assert completion.choices[0].message.tool_calls is None
        finish = [completion.choices[0].finish_reason]
    Colour.model_validate_json(text)
    assert finish == ["stop"]
    assert "outputConfig" not in sent(emulator)


def test_client_tools_stay_tool_calls_beside_the_forced_one(relay_sdk: tuple[openai.OpenAI, BedrockEmulator]) -> None:
    """With the client's own tools present the model must call *a* tool; a call to a client tool stays a tool call."""
    sdk, emulator = relay_sdk
    prompt = inline_prompt(tool_calls=[{"name": "weather", "arguments": {"city": "Oslo"}}])
    completion = sdk.chat.completions.create(
        model="llama",
        messages=[{"role": "user", "content": prompt}],
        tools=[WEATHER],  # type: ignore[list-item]
        response_format={"type": "json_object"},
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert completion.choices[0].finish_reason == "tool_calls"
    assert sent(emulator)["toolConfig"]["toolChoice"] == {"any": {}}


@pytest.mark.parametrize(("choice", "anthropic"), [("auto", {"type": "auto"}), ("required", {"type": "any"})])
def test_parallel_tool_calls_false_reaches_anthropic(
    relay_sdk: tuple[openai.OpenAI, BedrockEmulator], choice: str, anthropic: dict[str, Any]
) -> None:
    sdk, emulator = relay_sdk
    completion = sdk.chat.completions.create(
        model="claude45",
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice=choice,  # type: ignore[arg-type]
        parallel_tool_calls=False,
    )
    assert completion.choices[0].message is not None
    fields = sent(emulator)["additionalModelRequestFields"]
    assert fields == {"tool_choice": {**anthropic, "disable_parallel_tool_use": True}}


def test_parallel_tool_calls_false_is_accepted_without_effect_elsewhere(
    relay_sdk: tuple[openai.OpenAI, BedrockEmulator],
) -> None:
    sdk, emulator = relay_sdk
    completion = sdk.chat.completions.create(
        model="llama",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        parallel_tool_calls=False,
    )
    assert completion.choices[0].message.content
    assert "additionalModelRequestFields" not in sent(emulator)


def test_forced_named_tool_is_called_by_the_emulator(relay_sdk: tuple[openai.OpenAI, BedrockEmulator]) -> None:
    sdk, _ = relay_sdk
    completion = sdk.chat.completions.create(
        model="llama",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "weather"}},
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "weather"
    assert set(json.loads(call.function.arguments)) == {"city"}


@pytest.mark.parametrize(
    ("model_id", "native"),
    [
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", True),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", True),
        ("global.anthropic.claude-opus-4-6-v1", True),
        ("anthropic.claude-sonnet-4-20250514-v1:0", False),
        ("anthropic.claude-opus-4-1-20250805-v1:0", False),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", False),
        ("meta.llama3-1-70b-instruct-v1:0", False),
    ],
)
def test_auto_picks_native_only_for_models_that_take_it(model_id: str, native: bool) -> None:
    assert uses_native("auto", model_id) is native
    assert uses_native("native", model_id) is True
    assert uses_native("tool", model_id) is False
