"""Fuzz cases per dialect: schema-valid requests, mutated ones, odd bodies and odd headers.

``known_regressions`` are the inputs issue 10 found crashing the relay; each
runs on every route and provider path as a Hypothesis ``@example``, so a
fixed bug stays a named case.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shared.chat_request import ChatRequest, SimpleChatBody
from shared.responses_request import ResponsesRequest
from tests.fuzz import responses_cases
from tests.fuzz.exchange import Case
from tests.fuzz.headers import NUMERIC_KID_JWT, headers
from tests.fuzz.json_text import ALIAS, Raw, nested
from tests.fuzz.mutations import mutated, odd_content_parts
from tests.fuzz.schema_strategies import documents

SCHEMAS = {
    "openai": ChatRequest.model_json_schema(),
    "typed": SimpleChatBody.model_json_schema(),
    "responses": ResponsesRequest.model_json_schema(),
}
PLAUSIBLE_MAX_TOKENS = 512
ODD_BODIES = [b"", b"{", b"[]", b"null", b'"x"', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"{}" * 3, b"\x00"]


def cases(dialect: str, key: str) -> st.SearchStrategy[Case]:
    """Every kind of case for one dialect's body shape."""
    if dialect == "responses":
        valid = responses_cases.with_items(documents(SCHEMAS[dialect]))
        odd_parts = valid  # the drawn items already carry odd parts
    else:
        valid = documents(SCHEMAS[dialect]).map(plausible)
        odd_parts = with_odd_parts(valid)
    bodies = st.one_of(valid, valid, valid, mutated(valid), mutated(valid), odd_parts, odd_bodies())
    return st.builds(Case, body=bodies, headers=st.none() | st.none() | st.none() | headers(key), ascii=st.booleans())


def plausible(document: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid document made to pass the checks the schema cannot express, so most reach a provider.

    Roles need content (a tool message also its call id), token limits stay
    under the request policy's cap, and the browser dialect takes exactly one
    of ``messages`` and ``prompt``.
    """
    fixed = dict(document)
    for limit in ("max_tokens", "max_completion_tokens"):
        if isinstance(fixed.get(limit), int):
            fixed[limit] = min(fixed[limit], PLAUSIBLE_MAX_TOKENS)
    if "messages" in fixed and fixed["messages"] is not None:
        fixed["messages"] = [_plausible_message(message) for message in fixed["messages"]]
    if "prompt" in fixed and fixed.get("messages") is not None:
        del fixed["prompt"]
    if fixed.get("messages") is None and fixed.get("prompt") is None:
        fixed["prompt"] = "hi"
    return fixed


def _plausible_message(message: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(message)
    if fixed.get("content") is None and (fixed["role"] != "assistant" or not fixed.get("tool_calls")):
        fixed["content"] = "hi"
    if fixed["role"] == "tool" and not fixed.get("tool_call_id"):
        fixed["tool_call_id"] = "call_1"
    return fixed


@st.composite
def with_odd_parts(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A valid document whose first message's content is odd multi-part content."""
    document = {name: value for name, value in draw(valid).items() if name != "prompt"}
    messages = document.get("messages") or []
    return {**document, "messages": [{"role": "user", "content": draw(odd_content_parts())}, *messages[1:]]}


def odd_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not a JSON object: empty, truncated, wrong encodings, nested past any limit."""
    return st.one_of(
        st.sampled_from(ODD_BODIES),
        st.binary(max_size=64),
        st.builds(lambda depth: nested(depth).text.encode(), st.integers(900, 2000)),
    )


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def tool_exchange(arguments: str, result: str) -> list[dict[str, Any]]:
    """A turn in which the assistant called a tool and the tool answered."""
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    return [
        user("hi"),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": result},
    ]


DEEP_JSON_TEXT = nested(1500, shape="object").text
HELLO = {"model": ALIAS, "messages": [user("hi")]}


def with_headers(key: str, content_type: bytes, authorization: bytes | None = None) -> tuple[tuple[str, bytes], ...]:
    return (("Authorization", authorization or f"Bearer {key}".encode()), ("Content-Type", content_type))


def with_odd_headers(body: dict[str, Any], key: str) -> list[Case]:
    """A good body under the headers issue 10 found mishandled."""
    return [
        Case(body, with_headers(key, b"text/plain")),
        Case(body, with_headers(key, b"application/x-www-form-urlencoded")),
        Case(body, with_headers(key, b"application/json", b"Bearer " + NUMERIC_KID_JWT)),
    ]


def known_regressions(dialect: str, key: str) -> list[Case]:
    """Issue 10's crashing inputs, as they apply to this dialect's body."""
    if dialect == "responses":
        return [*responses_cases.known_regressions(), *with_odd_headers(responses_cases.HELLO, key)]
    common = [
        Case({"model": ALIAS, "messages": [user(nested(1000))]}),
        Case({"model": ALIAS, "messages": [user("hi"), {"role": "user", "content": "x", "extra": nested(2000)}]}),
        Case({"model": ALIAS, "messages": [user("\ud800")]}),
        Case({"model": ALIAS, "messages": [user([{"type": "text", "text": "hi", "detail": Raw("NaN")}])]}),
        Case({"model": ALIAS, "messages": [user([{"type": "text", "text": "hi", "detail": nested(1200)}])]}),
        # Found by the first 50,000-request run: a deep value under a lone-surrogate key made the 400 unwritable.
        Case({"model": ALIAS, "messages": [user([{"type": "input_audio", "\udfff": nested(100)}])]}),
        Case({"model": ALIAS, "messages": tool_exchange(DEEP_JSON_TEXT, "ok")}),
        Case({"model": ALIAS, "messages": tool_exchange("{}", DEEP_JSON_TEXT)}),
        Case({**HELLO, "max_tokens": Raw("9" * 5000)}),  # past the 4,300 digits json.loads will convert
        *with_odd_headers(HELLO, key),
    ]
    if dialect == "typed":
        return [
            *common,
            Case({"model": ALIAS, "prompt": "\ud800"}),
            Case({"model": ALIAS, "prompt": "hi", "max_tokens": Raw("1e400")}),
        ]
    return [
        *common,
        Case({**HELLO, "tools": [tool_with_parameters({"type": "object", "x": Raw("NaN")})]}),
        Case({**HELLO, "tools": [tool_with_parameters({"p": nested(1000)})]}),
        Case({**HELLO, "stop": "\ud800"}),
        Case({**HELLO, "stop": ["ok", "\udfff"]}),
        Case({**HELLO, "response_format": {"type": "json_schema", "json_schema": 5}}),
        Case({**HELLO, "response_format": {"type": "json_object", "x": Raw("Infinity")}}),
        Case({**HELLO, "response_format": {"type": "json_object", "x": nested(2000, shape="object")}}),
        Case({**HELLO, "max_tokens": Raw("1e400")}),
    ]


def tool_with_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "lookup", "parameters": parameters}}
