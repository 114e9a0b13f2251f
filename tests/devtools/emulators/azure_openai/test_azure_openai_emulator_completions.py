"""The Azure OpenAI emulator's non-streaming chat completions: one JSON document, sent once generation ends.

The relay passes these through untouched, so their shape, tool calls, timing
and faults are pinned down here.
"""

from __future__ import annotations

import json
import time

import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import (
    DEPLOYMENT,
    JAPANESE,
    extra,
    last_record,
    user,
)
from tests.polling import wait_for

pytestmark = pytest.mark.timeout(30)


def test_non_streaming_completion(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(inline_prompt(text=JAPANESE, completion_tokens=7))
    )

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == JAPANESE
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 7
    assert extra(completion)["prompt_filter_results"][0]["prompt_index"] == 0
    assert wait_for(lambda: last_record(emulator).outcome == "completed")


def test_non_streaming_tool_calls(client: openai.AzureOpenAI) -> None:
    prompt = inline_prompt(text="", tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}])
    message = client.chat.completions.create(model=DEPLOYMENT, messages=user(prompt)).choices[0].message

    assert message.content is None
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert call.type == "function" and call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"q": "x"}


def test_non_streaming_waits_for_the_whole_generation(client: openai.AzureOpenAI) -> None:
    started = time.monotonic()
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(inline_prompt(text="abcd", chunks=4, first_delay_ms=40, delay_ms=40))
    )

    assert completion.choices[0].message.content == "abcd"
    assert time.monotonic() - started >= 0.2


def test_non_streaming_faults(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=DEPLOYMENT, messages=user(inline_prompt(close_after=3)))
    assert wait_for(lambda: last_record(emulator).outcome == "closed")

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=DEPLOYMENT, messages=user(inline_prompt(error_after=3)))
