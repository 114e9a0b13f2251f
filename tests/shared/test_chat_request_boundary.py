"""Input no provider can take is refused at the boundary: a 400 naming the parameter, on both routes, every provider.

Each case was a 500 with a traceback before (issue 10, defect 3): deep nesting,
lone surrogates, non-finite or overflowing numbers, a malformed
``response_format``, and deeply nested JSON inside strings that adapters parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import (
    AUTH_HEADERS,
)
from tests.shared.test_http_api import assert_openai_error

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
V1 = "/api/v1/chat/completions"
CHAT = "/api/chat"
DEEP = 1200


@pytest.fixture(scope="module")
def relay(every_provider_relay_url: str) -> Iterator[httpx.Client]:
    """A client for the session's relay with an alias per provider path."""
    with httpx.Client(base_url=every_provider_relay_url, timeout=30, headers=AUTH_HEADERS) as http:
        yield http


DEEP_MARK = "<nested deeper than Python's json can write>"


def post(http: httpx.Client, url: str, body: dict[str, Any], *, raw: bytes | None = None) -> httpx.Response:
    """POST ``body`` as Python's json writes it (NaN, Infinity and ``\\ud800`` escapes included).

    ``DEEP_MARK`` stands for ``DEEP`` nested lists, which ``json.dumps`` itself cannot write.
    """
    text = json.dumps(body).replace(json.dumps(DEEP_MARK), "[" * DEEP + "1" + "]" * DEEP)
    return http.post(
        url, content=raw if raw is not None else text.encode(), headers={"content-type": "application/json"}
    )


def user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


def tool_turns(arguments: str, result: str) -> list[dict[str, Any]]:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    return [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": result},
    ]


def tool(parameters: Any) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "lookup", "parameters": parameters}}]


DEEP_JSON_TEXT = "[" * DEEP + "]" * DEEP
NAN = float("nan")
INF = float("inf")

# (id, body fields besides model, the param named, whether the param is a prefix of a longer path)
V1_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "deep-tool-parameters",
        {"messages": user("hi"), "tools": tool({"x": DEEP_MARK})},
        "tools[0].function.parameters.x",
    ),
    ("deep-unknown-field", {"messages": user("hi"), "metadata": DEEP_MARK}, "metadata"),
    ("surrogate-content", {"messages": user("a\ud800b")}, "messages[0].content"),
    ("surrogate-stop", {"messages": user("hi"), "stop": ["\udfff"]}, "stop[0]"),
    (
        "surrogate-tool-schema",
        {"messages": user("hi"), "tools": tool({"description": "\ud800"})},
        "tools[0].function.parameters.description",
    ),
    ("surrogate-name", {"messages": [{"role": "user", "content": "hi", "name": "\ud834"}]}, "messages[0].name"),
    (
        "nan-tool-schema",
        {"messages": user("hi"), "tools": tool({"type": "object", "default": NAN})},
        "tools[0].function.parameters.default",
    ),
    ("infinity-temperature", {"messages": user("hi"), "temperature": INF}, "temperature"),
    (
        "minus-infinity-part-extra",
        {"messages": user([{"type": "text", "text": "hi", "weight": -INF}])},
        "messages[0].content[0].weight",
    ),
    (
        "nan-response-format",
        {
            "messages": user("hi"),
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"maximum": NAN}}},
        },
        "response_format.json_schema.schema.maximum",
    ),
    (
        "json-schema-not-an-object",
        {"messages": user("hi"), "response_format": {"type": "json_schema", "json_schema": 5}},
        "response_format.json_schema",
    ),
    ("json-schema-missing", {"messages": user("hi"), "response_format": {"type": "json_schema"}}, "response_format"),
    (
        "json-schema-name-not-a-string",
        {"messages": user("hi"), "response_format": {"type": "json_schema", "json_schema": {"name": 5}}},
        "response_format.json_schema.name",
    ),
    (
        "json-schema-schema-not-an-object",
        {
            "messages": user("hi"),
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": []}},
        },
        "response_format.json_schema.schema",
    ),
    (
        "json-schema-strict-not-a-bool",
        {
            "messages": user("hi"),
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": "yes"}},
        },
        "response_format.json_schema.strict",
    ),
    (
        "response-format-unknown-type",
        {"messages": user("hi"), "response_format": {"type": "xml"}},
        "response_format.type",
    ),
    (
        "deep-tool-arguments",
        {"messages": tool_turns(DEEP_JSON_TEXT, "{}")},
        "messages[1].tool_calls[0].function.arguments",
    ),
    (
        "deep-unparseable-tool-arguments",
        {"messages": tool_turns("[" * DEEP + " x", "{}")},
        "messages[1].tool_calls[0].function.arguments",
    ),
    ("deep-tool-result", {"messages": tool_turns("{}", DEEP_JSON_TEXT)}, "messages[2].content"),
    ("max-tokens-beyond-64-bits", {"messages": user("hi"), "max_tokens": 2**64}, "max_tokens"),
    ("max-tokens-beyond-32-bits", {"messages": user("hi"), "max_tokens": 2**40}, "max_tokens"),
    ("seed-beyond-64-bits", {"messages": user("hi"), "seed": -(2**63) - 1}, "seed"),
    (
        "huge-int-in-tool-schema",
        {"messages": user("hi"), "tools": tool({"maximum": 10**30})},
        "tools[0].function.parameters.maximum",
    ),
]

CHAT_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "deep-content-part",
        {"messages": user([{"type": "text", "text": "hi", "x": DEEP_MARK}])},
        "messages[0].content[0].x",
    ),
    ("surrogate-prompt", {"prompt": "\ud800"}, "prompt"),
    ("surrogate-content", {"messages": user("a\udc00")}, "messages[0].content"),
    ("nan-temperature", {"prompt": "hi", "temperature": NAN}, "temperature"),
    ("max-tokens-beyond-32-bits", {"prompt": "hi", "max_tokens": 2**31}, "max_tokens"),
    (
        "deep-tool-arguments",
        {"messages": tool_turns(DEEP_JSON_TEXT, "{}")},
        "messages[1].tool_calls[0].function.arguments",
    ),
    ("deep-tool-result", {"messages": tool_turns("{}", DEEP_JSON_TEXT)}, "messages[2].content"),
]


def expect_param(response: httpx.Response, param: str) -> None:
    error = assert_openai_error(response, 400)
    assert error["code"] == "invalid_request"
    assert str(error["param"]).startswith(param), error
    assert str(error["message"]).startswith(param)


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize(("body", "param"), [case[1:] for case in V1_CASES], ids=[case[0] for case in V1_CASES])
def test_v1_refuses_what_no_provider_takes(relay: httpx.Client, alias: str, body: dict[str, Any], param: str) -> None:
    expect_param(post(relay, V1, {"model": alias, **body}), param)


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize(("body", "param"), [case[1:] for case in CHAT_CASES], ids=[case[0] for case in CHAT_CASES])
def test_chat_refuses_what_no_provider_takes(relay: httpx.Client, alias: str, body: dict[str, Any], param: str) -> None:
    expect_param(post(relay, CHAT, {"model": alias, **body}), param)


@pytest.mark.parametrize("url", [V1, CHAT])
@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b'{"model": "azure", "messages": [{"role": "user", "content": "hi"}], "temperature": 1e400}', "temperature"),
        (b'{"model": "azure", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1e999}', "max_tokens"),
        (b'{"model": "azure", "messages": [{"role": "user", "content": "hi", "\\ud800": 1}]}', "messages[0].\\ud800"),
    ],
)
def test_numbers_that_overflow_and_odd_keys_are_named(relay: httpx.Client, url: str, raw: bytes, param: str) -> None:
    expect_param(post(relay, url, {}, raw=raw), param)


@pytest.mark.parametrize("url", [V1, CHAT])
def test_nesting_under_a_key_that_is_a_lone_surrogate_is_named_escaped(relay: httpx.Client, url: str) -> None:
    # Found by the long fuzz run: the path to the deep value held the raw surrogate, and the 400 could not be encoded.
    deep = b"[" * 100 + b"]" * 100
    raw = b'{"model": "vertex-native", "messages": [{"role": "user", "content": [{"type": "text", "\\udfff": ' + deep
    error = assert_openai_error(post(relay, url, {}, raw=raw + b"}]}]}"), 400)
    assert str(error["param"]).startswith("messages[0].content[0].\\udfff[0][0]"), error


@pytest.mark.parametrize("url", [V1, CHAT])
def test_nesting_past_the_limit_is_refused_before_parsing(relay: httpx.Client, url: str) -> None:
    raw = b'{"model": "azure", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = assert_openai_error(post(relay, url, {}, raw=raw), 400)
    assert str(error["param"]).startswith("messages[0][0]") and "64 levels" in str(error["message"])


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize(
    "body",
    [
        {"messages": user("a\u0000b\uffff\U0010ffff")},
        {"messages": user("😀 \ud83d\ude00")},
        {"messages": user("[" * 64 + "]" * 64)},
        {"messages": tool_turns("[" * 64 + "]" * 64, '{"ok": [1, 2]}')},
        {"messages": user("hi"), "tools": tool({"type": "object", "properties": {"n": {"maximum": 1e300}}})},
        {"messages": user("hi"), "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
        {"messages": user("hi"), "max_tokens": 4096, "seed": 2**63 - 1},
    ],
    ids=[
        "nul-and-noncharacters",
        "surrogate-pair",
        "brackets-at-the-limit",
        "tool-json-at-the-limit",
        "big-finite-float",
        "json-schema-name-only",
        "largest-ints",
    ],
)
def test_odd_but_valid_input_is_not_refused_by_the_boundary(
    relay: httpx.Client, alias: str, body: dict[str, Any]
) -> None:
    """Azure forwards all of it; another provider may refuse a feature it lacks, with a 4xx, never a 5xx."""
    response = post(relay, V1, {"model": alias, **body})
    if alias == "azure":
        assert response.status_code == 200, response.text
    elif response.status_code != 200:
        assert response.status_code < 500
        assert_openai_error(response, response.status_code)
