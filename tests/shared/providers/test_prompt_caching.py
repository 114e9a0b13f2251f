"""Prompt-cache breakpoints with the real openai SDK through the relay (issue 15, item 3).

``cache_control`` marks where a cached prefix ends. Bedrock must get a
``cachePoint`` block right after the marked content (the emulator refuses one
out of place, as the service does); Azure OpenAI and Gemini cache on their own
and must never see the field. A malformed breakpoint is a 400 naming it.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.builders import only_upstream_body

EPHEMERAL = {"type": "ephemeral"}
TOOL = {
    "type": "function",
    "function": {"name": "lookup", "description": "Look a word up.", "parameters": {"type": "object"}},
    "cache_control": EPHEMERAL,
}
MESSAGES: list[Any] = [
    {"role": "system", "content": [{"type": "text", "text": "You are terse.", "cache_control": EPHEMERAL}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "A long document.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Summarise it."},
        ],
    },
]
POINT = {"cachePoint": {"type": "default"}}


def test_bedrock_gets_a_cache_point_after_each_marked_block(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    answer = every_provider_sdk.chat.completions.create(model="bedrock", messages=MESSAGES, tools=[TOOL])
    assert answer.choices[0].message.content
    body = only_upstream_body(alias_emulators["bedrock"])
    assert body["system"] == [{"text": "You are terse."}, POINT]
    assert body["messages"][0]["content"] == [
        {"text": "A long document."},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"text": "Summarise it."},
    ]
    assert [list(entry) for entry in body["toolConfig"]["tools"]] == [["toolSpec"], ["cachePoint"]]


def test_bedrock_caches_a_whole_message_marked_with_string_content(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "Rules.", "cache_control": EPHEMERAL},
        {"role": "user", "content": "Question?", "cache_control": EPHEMERAL},
    ]
    every_provider_sdk.chat.completions.create(model="bedrock", messages=messages)
    body = only_upstream_body(alias_emulators["bedrock"])
    assert body["system"] == [{"text": "Rules."}, POINT]
    assert body["messages"][0]["content"] == [{"text": "Question?"}, POINT]


@pytest.mark.parametrize("alias", ["azure", "vertex", "vertex-native"])
def test_implicit_caches_never_see_cache_control(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    answer = every_provider_sdk.chat.completions.create(model=alias, messages=MESSAGES, tools=[TOOL])
    assert answer.choices[0].message.content
    body = only_upstream_body(alias_emulators[alias])
    assert "You are terse." in json.dumps(body)
    assert "cache_control" not in json.dumps(body)


def test_more_breakpoints_than_bedrock_takes_is_a_400(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    parts = [{"type": "text", "text": f"part {n}", "cache_control": EPHEMERAL} for n in range(5)]
    with pytest.raises(openai.BadRequestError, match="at most 4") as caught:
        every_provider_sdk.chat.completions.create(model="bedrock", messages=[{"role": "user", "content": parts}])
    assert caught.value.body["param"] == "cache_control"  # type: ignore[index]
    assert not alias_emulators["bedrock"].recorder.records


@pytest.mark.parametrize(
    ("control", "param"),
    [
        ({"type": "persistent"}, "messages[0].content[0].cache_control.type"),
        ({"type": "ephemeral", "ttl": "2h"}, "messages[0].content[0].cache_control.ttl"),
        ({"type": "ephemeral", "scope": "global"}, "messages[0].content[0].cache_control.scope"),
        ("ephemeral", "messages[0].content[0].cache_control"),
    ],
)
@pytest.mark.parametrize("alias", ["azure", "bedrock", "vertex", "vertex-native"])
def test_a_malformed_breakpoint_is_a_400_naming_it(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, control: Any, param: str
) -> None:
    part = {"type": "text", "text": "hi", "cache_control": control}
    with pytest.raises(openai.BadRequestError) as caught:
        every_provider_sdk.chat.completions.create(model=alias, messages=[{"role": "user", "content": [part]}])
    assert caught.value.body["param"] == param  # type: ignore[index]
    assert not alias_emulators[alias].recorder.records


def test_a_malformed_tool_breakpoint_is_a_400_naming_it(every_provider_sdk: openai.OpenAI) -> None:
    tool = {**TOOL, "cache_control": {"type": "forever"}}
    with pytest.raises(openai.BadRequestError) as caught:
        every_provider_sdk.chat.completions.create(model="bedrock", messages=MESSAGES, tools=[tool])
    assert caught.value.body["param"] == "tools[0].cache_control.type"  # type: ignore[index]


def test_a_repeated_bedrock_prefix_is_reported_as_cached(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any]
) -> None:
    messages: list[Any] = [
        {"role": "user", "content": [{**MESSAGES[1]["content"][0]}, {"type": "text", "text": "Go."}]}
    ]
    usages = []
    for _ in range(2):
        answer = every_provider_sdk.chat.completions.create(model="bedrock", messages=messages)
        assert answer.usage is not None
        details = answer.usage.prompt_tokens_details
        usages.append(details.cached_tokens if details else 0)
    assert usages[0] == 0  # written to the cache, not read from it
    assert usages[1] == len("A long document.") // 4
