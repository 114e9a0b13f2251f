"""Mutations of a valid document: one field made wrong, the way a fuzzer finds what validation missed.

A mutation picks one place in the document (any object member or array
item, at any depth) and replaces, adds or removes something there. The
replacement values come from :mod:`tests.fuzz.values`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.json_text import Raw
from tests.fuzz.values import LONE_SURROGATES, ODD_CHARACTERS, free_json, nested_json_text, odd_text, wrong_values

Path = tuple[str | int, ...]
# Fields of the request models worth adding where they do not belong, or again with a wrong type.
FIELD_NAMES = [
    "model", "messages", "stream", "stream_options", "include_usage", "max_tokens", "temperature", "stop",
    "tools", "tool_choice", "response_format", "json_schema", "parameters", "tool_calls", "arguments",
    "content", "role", "type", "text", "image_url", "prompt", "n", "seed", "__proto__", "",
]  # fmt: skip


def paths(document: Any, prefix: Path = ()) -> list[Path]:
    """Every place in ``document``, the root included."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


def at(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def replaced(document: Any, path: Path, change: Callable[[Any], Any]) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced by ``change(value)``."""
    if not path:
        return change(document)
    copied = copy.deepcopy(document)
    parent = at(copied, path[:-1])
    parent[path[-1]] = change(parent[path[-1]])
    return copied


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Any:
    """A valid-looking document with one mutation applied somewhere."""
    document = draw(documents)
    places = paths(document)
    path = draw(st.sampled_from(places[1:] or places))  # the root is replaced by odd bodies elsewhere
    target = at(document, path)
    kinds = ["replace"]
    if isinstance(target, dict):
        kinds += ["add", "add", "remove"] if target else ["add"]
    if isinstance(target, list):
        kinds += ["append"]
    if isinstance(target, str):
        kinds += ["poison_text", "nested_text"]
    kind = draw(st.sampled_from(kinds))
    change = draw(_CHANGES[kind](target))
    return replaced(document, path, change)


def _replace(target: Any) -> st.SearchStrategy[Callable[[Any], Any]]:
    return wrong_values().map(lambda value: lambda _: value)


def _add(target: dict[str, Any]) -> st.SearchStrategy[Callable[[Any], Any]]:
    names = st.sampled_from(FIELD_NAMES) | odd_text(max_size=8)
    return st.tuples(names, wrong_values()).map(lambda pair: lambda old: {**old, pair[0]: pair[1]})


def _remove(target: dict[str, Any]) -> st.SearchStrategy[Callable[[Any], Any]]:
    return st.sampled_from(sorted(target, key=str)).map(
        lambda name: lambda old: {key: value for key, value in old.items() if key != name}
    )


def _append(target: list[Any]) -> st.SearchStrategy[Callable[[Any], Any]]:
    return wrong_values().map(lambda value: lambda old: [*old, value])


def _poison_text(target: str) -> st.SearchStrategy[Callable[[Any], Any]]:
    poison = st.sampled_from(LONE_SURROGATES + ODD_CHARACTERS)
    return st.tuples(poison, st.integers(0, len(target))).map(
        lambda pair: lambda old: old[: pair[1]] + pair[0] + old[pair[1] :]
    )


def _nested_text(target: str) -> st.SearchStrategy[Callable[[Any], Any]]:
    return nested_json_text().map(lambda text: lambda _: text)


_CHANGES: dict[str, Callable[[Any], st.SearchStrategy[Callable[[Any], Any]]]] = {
    "replace": _replace,
    "add": _add,
    "remove": _remove,
    "append": _append,
    "poison_text": _poison_text,
    "nested_text": _nested_text,
}


def odd_content_parts() -> st.SearchStrategy[list[Any]]:
    """Multi-part content as clients get it wrong: unknown types, missing text, extra fields."""
    part = st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "video", "", "TEXT"])},
        optional={
            "text": st.one_of(odd_text(), wrong_values()),
            "image_url": st.one_of(st.fixed_dictionaries({"url": odd_text()}), free_json()),
            "input_audio": free_json(),
            "file": free_json(),
            "extra": st.one_of(free_json(), st.just(Raw("NaN"))),
        },
    )
    return st.lists(part | free_json(), min_size=0, max_size=4)
