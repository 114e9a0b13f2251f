"""JSON text for fuzzing: what ``json.dumps`` refuses or cannot reach.

A document here is ordinary JSON data plus two markers. :class:`Raw` is
written verbatim, which is how a case carries ``1e400``, ``NaN`` or 2,000
levels of nesting (built as text, so no recursion limit applies), and
:data:`ALIAS` stands for the model alias of the route the case is sent to.
Strings are written with ``\\uXXXX`` escapes, so a lone surrogate is
representable; with ``ascii=False`` they are raw UTF-8 and a surrogate
becomes bytes that are not valid UTF-8.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is."""

    text: str


class _Alias:
    """A singleton that survives ``copy.deepcopy``, which mutations use."""

    def __repr__(self) -> str:
        return "ALIAS"

    def __copy__(self) -> _Alias:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Alias:
        return self


ALIAS: Any = _Alias()


def nested(depth: int, leaf: str = "0", shape: str = "array") -> Raw:
    """``depth`` levels of arrays (or objects) around ``leaf``, built without recursion."""
    if shape == "array":
        return Raw("[" * depth + leaf + "]" * depth)
    return Raw('{"a":' * depth + leaf + "}" * depth)


def encode(document: Any, alias: str, ascii: bool = True) -> bytes:
    """The document as request-body bytes, ``ALIAS`` replaced by ``alias``."""
    text = "".join(_tokens(document, alias, ascii))
    return text.encode("utf-8", errors="surrogatepass")


def _tokens(value: Any, alias: str, ascii: bool) -> list[str]:
    if value is ALIAS:
        return [json.dumps(alias)]
    if isinstance(value, Raw):
        return [value.text]
    if isinstance(value, str):
        return [json.dumps(value, ensure_ascii=ascii)]
    if isinstance(value, dict):
        members = [
            [json.dumps(str(key), ensure_ascii=ascii), ":", *_tokens(item, alias, ascii)] for key, item in value.items()
        ]
        return _container("{", "}", members)
    if isinstance(value, list | tuple):
        return _container("[", "]", [_tokens(item, alias, ascii) for item in value])
    return [json.dumps(value)]  # bool, None, int of any size, float including NaN and Infinity


def _container(opening: str, closing: str, members: list[list[str]]) -> list[str]:
    tokens = [opening]
    for position, member in enumerate(members):
        if position:
            tokens.append(",")
        tokens += member
    tokens.append(closing)
    return tokens
