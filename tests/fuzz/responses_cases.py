"""Responses cases: schema-drawn requests whose ``input`` is valid-looking items with odd values.

``ResponsesRequest``'s schema leaves ``input`` items free-form (each is
checked by the model for its ``type`` in ``shared/responses_items.py``), so a
schema draw alone would nearly always be a 400 at the first item. Here the
items are drawn by kind: messages with ``input_text``/``output_text``/
``input_image``/``refusal`` parts, ``function_call``, ``function_call_output``
and ``reasoning`` items, mostly well formed but with odd text, odd ids, odd
call arguments and, now and then, an item the relay must refuse.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.exchange import Case
from tests.fuzz.json_text import ALIAS, Raw, nested
from tests.fuzz.values import free_json, nested_json_text, odd_text, wrong_values

PLAUSIBLE_MAX_TOKENS = 512
STATUSES = ["in_progress", "completed", "incomplete"]
# A stateful request is always a 400; a plausible draw asks for none of it, so most requests reach a provider.
STATEFUL = ("previous_response_id", "conversation")
IMAGE_URLS = ["https://example.com/cat.png", "data:image/png;base64,iVBORw0KGgo=", "data:,", "ftp://x", "x"]


def item_text() -> st.SearchStrategy[str]:
    """An item's text: ordinary and non-empty mostly, so most conversations reach a provider, else odd."""
    return st.one_of(st.text(min_size=1, max_size=24), st.text(min_size=1, max_size=24), odd_text())


def call_id() -> st.SearchStrategy[str]:
    """Mostly from a pool of two, so calls and their outputs pair up as in a real conversation."""
    return st.one_of(st.sampled_from(["call_1", "call_2"]), st.sampled_from(["call_1", "call_2"]), odd_text(min_size=1))


def _optional(required: dict[str, Any], **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


def _text_part() -> st.SearchStrategy[dict[str, Any]]:
    kind = st.sampled_from(["input_text", "output_text"])
    return _optional(
        {"type": kind, "text": item_text()}, annotations=st.lists(free_json(), max_size=2), parsed=free_json()
    )


def _image_part() -> st.SearchStrategy[dict[str, Any]]:
    url = st.sampled_from(IMAGE_URLS) | odd_text(min_size=1)
    return _optional(
        {"type": st.just("input_image"), "image_url": url}, detail=st.sampled_from(["auto", "low", "high"])
    )


def _refusal_part() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just("refusal"), "refusal": item_text()})


def parts() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(_text_part(), _text_part(), _image_part(), _refusal_part())


def message() -> st.SearchStrategy[dict[str, Any]]:
    role = st.sampled_from(["user", "user", "system", "developer", "assistant"])
    content = item_text() | st.lists(parts(), max_size=4)
    return _optional(
        {"role": role, "content": content},
        type=st.just("message"),
        id=odd_text(),
        status=st.sampled_from(STATUSES),
        phase=st.sampled_from(["commentary", "final_answer"]),
    )


def arguments() -> st.SearchStrategy[str]:
    """A call's ``arguments``: JSON text mostly, sometimes deep, broken or not JSON at all."""
    return st.one_of(
        st.sampled_from(["{}", '{"city":"Paris"}', "[]", '"x"', "{", "", "NaN", '{"a":1e400}']),
        nested_json_text(),
        odd_text(),
    )


def function_call() -> st.SearchStrategy[dict[str, Any]]:
    return _optional(
        {"type": st.just("function_call"), "call_id": call_id(),
         "name": st.sampled_from(["lookup", "get_weather"]) | odd_text(min_size=1),
         "arguments": arguments()},
        id=odd_text(),
        status=st.sampled_from(STATUSES),
        parsed_arguments=free_json(),
    )  # fmt: skip


def function_call_output() -> st.SearchStrategy[dict[str, Any]]:
    output = item_text() | st.lists(parts(), max_size=3) | nested_json_text()
    return _optional(
        {"type": st.just("function_call_output"), "call_id": call_id(), "output": output},
        id=odd_text(),
        status=st.sampled_from(STATUSES),
    )


def reasoning() -> st.SearchStrategy[dict[str, Any]]:
    summary = st.lists(st.fixed_dictionaries({"type": st.just("summary_text"), "text": odd_text()}), max_size=2)
    return _optional(
        {"type": st.just("reasoning"), "summary": summary},
        id=odd_text(),
        content=st.lists(st.fixed_dictionaries({"type": st.just("reasoning_text"), "text": odd_text()}), max_size=2),
        encrypted_content=odd_text(),
        status=st.sampled_from(STATUSES),
    )


def refused_item() -> st.SearchStrategy[Any]:
    """An item the relay must refuse with a 400: a reference to stored state, an unknown type, not an object."""
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("item_reference"), "id": odd_text()}),
        st.fixed_dictionaries({"type": st.sampled_from(["", "web_search_call", "MESSAGE", "function_call_output "])}),
        wrong_values(),
    )


def input_items() -> st.SearchStrategy[list[Any]]:
    """A conversation as Responses items, most of them well formed."""
    item = st.one_of(message(), message(), message(), function_call(), function_call_output(), reasoning())
    return st.lists(st.one_of(*[item] * 7, refused_item()), min_size=1, max_size=5)


# Built once: a strategy this size costs more to build (and have Hypothesis analyse) than to draw from.
INPUTS = st.one_of(item_text(), input_items(), input_items(), input_items())


@st.composite
def with_items(draw: st.DrawFn, documents: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A schema-drawn request made plausible, its ``input`` a string or (mostly) drawn items."""
    document = plausible(draw(documents))
    document["input"] = draw(INPUTS)
    return document


def plausible(document: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid request made to pass the checks the schema cannot express, so most reach a provider."""
    fixed = {name: value for name, value in document.items() if name not in STATEFUL}
    for flag in ("store", "background"):
        if fixed.get(flag) is True:
            fixed[flag] = False
    if isinstance(fixed.get("max_output_tokens"), int):
        fixed["max_output_tokens"] = min(fixed["max_output_tokens"], PLAUSIBLE_MAX_TOKENS)
    text_format = (fixed.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        fixed["text"] = {**fixed["text"], "format": {"name": "answer", "schema": {"type": "object"}, **text_format}}
    return fixed


def _hello(**fields: Any) -> dict[str, Any]:
    return {"model": ALIAS, "input": "hi", **fields}


def _call(arguments: Any) -> dict[str, Any]:
    return {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": arguments}


def _output(output: Any) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": "call_1", "output": output}


def _user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


HELLO = _hello()


def known_regressions() -> list[Case]:
    """Issue 10's crashing bodies in their Responses form, and what this route's fuzzing found."""
    deep = nested(1500, shape="object").text
    return [
        Case(_hello(input=[_user(nested(1000))])),
        Case(_hello(input=[_user("hi"), {"role": "user", "content": "x", "extra": nested(2000)}])),
        Case(_hello(input="\ud800")),
        Case(_hello(instructions="\udfff")),
        Case(_hello(input=[_user([{"type": "input_text", "text": "hi", "annotations": [Raw("NaN")]}])])),
        Case(_hello(input=[_user([{"type": "input_image", "\udfff": nested(100)}])])),
        Case(_hello(input=[_user("hi"), _call(deep), _output("ok")])),
        Case(_hello(input=[_user("hi"), _call("{}"), _output(deep)])),
        Case(_hello(input=[_user("hi"), _call("{}"), _output([{"type": "input_text", "text": nested(1200)}])])),
        Case(_hello(input=[{"type": "reasoning", "summary": [], "encrypted_content": nested(2000)}, _user("hi")])),
        Case(_hello(max_output_tokens=Raw("9" * 5000))),
        Case(_hello(max_output_tokens=Raw("1e400"))),
        Case(_hello(temperature=Raw("NaN"))),
        Case(_hello(tools=[{"type": "function", "name": "lookup", "parameters": {"type": "object", "x": Raw("NaN")}}])),
        Case(_hello(tools=[{"type": "function", "name": "lookup", "parameters": {"p": nested(1000)}}])),
        Case(_hello(text={"format": {"type": "json_schema", "name": "a", "schema": {"x": Raw("Infinity")}}})),
        Case(_hello(text={"format": {"type": "json_schema", "name": "a", "schema": nested(2000, shape="object")}})),
        Case(_hello(metadata={"\ud800": "x"})),
    ]
