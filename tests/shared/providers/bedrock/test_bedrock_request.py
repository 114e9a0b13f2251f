"""OpenAI request -> Converse parameters: tables of cases, no network."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.errors import InvalidRequest
from shared.providers.bedrock.request import converse_params

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def params(messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    request = ChatRequest.model_validate({"model": "bedrock", "messages": messages, **fields})
    return converse_params(request, "model-x")


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any = None, calls: list[tuple[str, str, str]] = ()) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in calls
        ]
    return message


def tool(call_id: str, content: Any) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def text(value: str) -> dict[str, str]:
    return {"text": value}


@pytest.mark.parametrize(
    ("messages", "system", "turns"),
    [
        pytest.param([user("hi")], None, [("user", [text("hi")])], id="one user turn"),
        pytest.param(
            [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Use French."}, user("hi")],
            [text("Be brief."), text("Use French.")],
            [("user", [text("hi")])],
            id="system and developer become system blocks",
        ),
        pytest.param(
            [user("a"), {"role": "system", "content": "late"}, assistant("b"), user("c")],
            [text("late")],
            [("user", [text("a")]), ("assistant", [text("b")]), ("user", [text("c")])],
            id="a mid-conversation system message is hoisted",
        ),
        pytest.param(
            [user("a"), user("b")],
            None,
            [("user", [text("a"), text("b")])],
            id="consecutive user messages merge",
        ),
        pytest.param(
            [
                user(
                    [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    ]
                )
            ],
            None,
            [("user", [text("look"), {"image": {"format": "png", "source": {"bytes": base64.b64decode(PNG)}}}])],
            id="multi-part text and inline image",
        ),
        pytest.param(
            [user([{"type": "image_url", "image_url": {"url": f"data:image/jpg;base64,{PNG}"}}])],
            None,
            [("user", [{"image": {"format": "jpeg", "source": {"bytes": base64.b64decode(PNG)}}}])],
            id="jpg is jpeg",
        ),
        pytest.param(
            [
                user("weather?"),
                assistant("", [("call_1", "weather", '{"city": "Paris"}'), ("call_2", "time", "")]),
                tool("call_1", "18°C"),
                tool("call_2", [{"type": "text", "text": "noon"}]),
                user("thanks"),
            ],
            None,
            [
                ("user", [text("weather?")]),
                (
                    "assistant",
                    [
                        {"toolUse": {"toolUseId": "call_1", "name": "weather", "input": {"city": "Paris"}}},
                        {"toolUse": {"toolUseId": "call_2", "name": "time", "input": {}}},
                    ],
                ),
                (
                    "user",
                    [
                        {"toolResult": {"toolUseId": "call_1", "content": [text("18°C")]}},
                        {"toolResult": {"toolUseId": "call_2", "content": [text("noon")]}},
                        text("thanks"),
                    ],
                ),
            ],
            id="tool calls, then tool results merged into one user turn",
        ),
        pytest.param(
            [user("q"), assistant("Let me look.", [("c", "f", "{}")]), tool("c", "ok")],
            None,
            [
                ("user", [text("q")]),
                ("assistant", [text("Let me look."), {"toolUse": {"toolUseId": "c", "name": "f", "input": {}}}]),
                ("user", [{"toolResult": {"toolUseId": "c", "content": [text("ok")]}}]),
            ],
            id="assistant text before its tool call",
        ),
        pytest.param(
            [user("q"), assistant([{"type": "refusal", "refusal": "I can't."}]), user("why")],
            None,
            [("user", [text("q")]), ("assistant", [text("I can't.")]), ("user", [text("why")])],
            id="a refusal part is assistant text",
        ),
        pytest.param(
            [user("q"), assistant("a"), assistant("b")],
            None,
            [("user", [text("q")]), ("assistant", [text("a"), text("b")])],
            id="consecutive assistant messages merge",
        ),
    ],
)
def test_messages(messages: list[dict[str, Any]], system: list[Any] | None, turns: list[tuple[str, list[Any]]]) -> None:
    converse = params(messages)
    assert converse.get("system") == system
    assert [(turn["role"], turn["content"]) for turn in converse["messages"]] == turns
    assert converse["modelId"] == "model-x"


@pytest.mark.parametrize(
    ("fields", "config"),
    [
        ({}, None),
        ({"max_tokens": 100}, {"maxTokens": 100}),
        ({"max_completion_tokens": 80, "max_tokens": 100}, {"maxTokens": 80}),
        ({"temperature": 0.3, "top_p": 0.9}, {"temperature": 0.3, "topP": 0.9}),
        ({"temperature": 0}, {"temperature": 0}),
        ({"stop": "END"}, {"stopSequences": ["END"]}),
        ({"stop": ["a", "b"]}, {"stopSequences": ["a", "b"]}),
        ({"user": "user-123", "n": 1, "parallel_tool_calls": True}, None),
    ],
)
def test_inference_config(fields: dict[str, Any], config: dict[str, Any] | None) -> None:
    assert params([user("hi")], **fields).get("inferenceConfig") == config


WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Look it up",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
BARE = {"type": "function", "function": {"name": "now"}}


@pytest.mark.parametrize(
    ("fields", "config"),
    [
        ({}, None),
        (
            {"tools": [WEATHER, BARE]},
            {
                "tools": [
                    {
                        "toolSpec": {
                            "name": "weather",
                            "description": "Look it up",
                            "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
                        }
                    },
                    {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
                ]
            },
        ),
        ({"tools": [BARE], "tool_choice": "auto"}, {"auto": {}}),
        ({"tools": [BARE], "tool_choice": "required"}, {"any": {}}),
        (
            {"tools": [BARE], "tool_choice": {"type": "function", "function": {"name": "now"}}},
            {"tool": {"name": "now"}},
        ),
    ],
)
def test_tool_config(fields: dict[str, Any], config: dict[str, Any] | None) -> None:
    tool_config = params([user("hi")], **fields).get("toolConfig")
    if config is None or "tools" in config:
        assert tool_config == config
    else:
        assert tool_config["toolChoice"] == config


TOOL_TURNS = [
    {"role": "user", "content": "hi"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "function": {"name": "now", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "noon"},
]


@pytest.mark.parametrize(
    ("messages", "fields", "param", "message"),
    [
        ([user("hi")], {"presence_penalty": 0.1}, "presence_penalty", "not supported"),
        ([user("hi")], {"frequency_penalty": 0.1}, "frequency_penalty", "not supported"),
        ([user("hi")], {"seed": 1}, "seed", "not supported"),
        ([user("hi")], {"logit_bias": {"50256": -100}}, "logit_bias", "cannot bias tokens"),
        ([user("hi")], {"reasoning_effort": "high"}, "reasoning_effort", "not supported"),
        (TOOL_TURNS, {"tools": [BARE], "tool_choice": "none"}, "tool_choice", "'none' is not supported"),
        ([user("hi")], {"tool_choice": "auto"}, "tool_choice", "needs tools"),
        ([user("hi")], {"tools": [BARE], "tool_choice": {"type": "function"}}, "tool_choice", "must be"),
        ([{"role": "system", "content": "only"}], {}, "messages", "at least one user message"),
        ([assistant("hello"), user("hi")], {}, "messages[0]", "must start with a user message"),
        ([{"role": "system", "content": "s"}, assistant("x")], {}, "messages[1]", "must start with a user message"),
        ([user("")], {}, "messages[0].content", "must not be empty"),
        (
            [user("q"), assistant(None, [("c", "f", "{oops")])],
            {},
            "messages[1].tool_calls[0].function.arguments",
            "not valid JSON",
        ),
        (
            [user("q"), assistant(None, [("c", "f", "[1, 2]")])],
            {},
            "messages[1].tool_calls[0].function.arguments",
            "JSON object",
        ),
        (
            [user([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}])],
            {},
            "messages[0].content[0].image_url",
            "cannot fetch URLs",
        ),
        (
            [user([{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}}])],
            {},
            "messages[0].content[0].image_url",
            "png, jpeg, gif or webp",
        ),
        (
            [user([{"type": "image_url", "image_url": {"url": "data:image/png;base64,***"}}])],
            {},
            "messages[0].content[0].image_url",
            "not valid base64",
        ),
        (
            [user([{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}])],
            {},
            "messages[0].content[0]",
            "'input_audio' is not supported",
        ),
        (
            [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, user("hi")],
            {},
            "messages[0].content[0]",
            "may only hold text",
        ),
    ],
)
def test_refusals_name_the_parameter(
    messages: list[dict[str, Any]], fields: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        params(messages, **fields)
    assert caught.value.param == param
    assert caught.value.status == 400
    assert message in caught.value.message


def test_tool_choice_none_without_tool_history_offers_no_tools() -> None:
    """Nothing to call means nothing called, which is what ``none`` asks; Converse has no such mode."""
    assert "toolConfig" not in params([user("hi")], tools=[BARE], tool_choice="none")


# --- cache_control -> cachePoint ------------------------------------------------------

CACHED = {"type": "ephemeral"}
POINT = {"cachePoint": {"type": "default"}}


def cached_text(value: str, **control: str) -> dict[str, Any]:
    return {"type": "text", "text": value, "cache_control": {**CACHED, **control}}


@pytest.mark.parametrize(
    ("messages", "system", "first_turn"),
    [
        pytest.param(
            [{"role": "system", "content": [{"type": "text", "text": "a"}, cached_text("b")]}, user("hi")],
            [text("a"), text("b"), POINT],
            [text("hi")],
            id="a system part splits the system prompt at the breakpoint",
        ),
        pytest.param(
            [{"role": "developer", "content": "rules", "cache_control": CACHED}, user("hi")],
            [text("rules"), POINT],
            [text("hi")],
            id="a whole developer message",
        ),
        pytest.param(
            [user([cached_text("doc", ttl="5m"), {"type": "text", "text": "q"}])],
            None,
            [text("doc"), {"cachePoint": {"type": "default", "ttl": "5m"}}, text("q")],
            id="a user part keeps its ttl",
        ),
        pytest.param(
            [user([cached_text("")]), user("next")],
            None,
            [text("next")],
            id="a breakpoint on dropped empty text is dropped with it",
        ),
        pytest.param(
            [{**user([cached_text("doc")]), "cache_control": CACHED}],
            None,
            [text("doc"), POINT],
            id="part and message marking the same end give one cache point",
        ),
        pytest.param(
            [user("q"), assistant(None, [("c1", "f", "{}")]), {**tool("c1", "result"), "cache_control": CACHED}],
            None,
            [text("q")],
            id="a tool result",
        ),
    ],
)
def test_cache_points_follow_the_marked_content(
    messages: list[dict[str, Any]], system: list[Any] | None, first_turn: list[Any]
) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}] if any("tool_call_id" in m for m in messages) else None
    converse = params(messages, **({"tools": tools} if tools else {}))
    assert converse.get("system") == system
    assert converse["messages"][0]["content"] == first_turn
    if tools:
        assert converse["messages"][-1]["content"][-1] == POINT


def test_a_marked_tool_is_followed_by_a_cache_point() -> None:
    tools = [
        {"type": "function", "function": {"name": "a"}, "cache_control": CACHED},
        {"type": "function", "function": {"name": "b"}},
    ]
    specs = params([user("hi")], tools=tools)["toolConfig"]["tools"]
    assert [next(iter(entry)) for entry in specs] == ["toolSpec", "cachePoint", "toolSpec"]


def test_more_than_four_cache_points_is_refused() -> None:
    parts = [cached_text(f"part {n}") for n in range(4)]
    assert sum("cachePoint" in block for block in params([user(parts)])["messages"][0]["content"]) == 4
    with pytest.raises(InvalidRequest, match="at most 4") as caught:
        params([user([*parts, cached_text("fifth")])])
    assert caught.value.param == "cache_control"
