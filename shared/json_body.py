"""Decoding a client's JSON so that only what every provider can take gets through.

Python's ``json`` accepts more than providers and SDKs do: ``NaN`` and
``Infinity``, numbers that overflow to infinity (``1e400``), integers of any
size, lone UTF-16 surrogates (``"\\ud800"``) that no encoder can write back
as UTF-8, and nesting deep enough to exhaust the interpreter's recursion
limit, here or in an adapter that parses a JSON string again. Each is refused
here, once, with a 400 naming where it is, instead of a crash deep in a
provider's SDK.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from .errors import InvalidRequest

MAX_DEPTH = 64
INT64 = 2**63

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _NonFinite:
    """Stands in for NaN, Infinity or an overflowing number until the walk finds where it is."""


_NON_FINITE = _NonFinite()


def load_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``InvalidRequest`` naming the first value no provider accepts."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: not UTF-8 ({exc.reason})") from None
    check_nesting(text, param=None)
    numbers = _Numbers()
    try:
        document = json.loads(
            text, parse_constant=numbers.constant, parse_float=numbers.real, parse_int=numbers.integer
        )
    except (ValueError, RecursionError) as exc:  # RecursionError: only if the scan above ever misjudges
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("request body must be a JSON object")
    if numbers.odd or _has_lone_surrogate(text, document):
        _check_values(document)  # finds where, to name it; only bodies about to be refused pay for the walk
    return document


class _Numbers:
    """``json.loads`` number hooks that note, rather than fail on, numbers no provider accepts."""

    def __init__(self) -> None:
        self.odd = False

    def constant(self, _: str) -> _NonFinite:
        self.odd = True
        return _NON_FINITE

    def real(self, text: str) -> float | _NonFinite:
        value = float(text)
        if math.isfinite(value):
            return value
        self.odd = True
        return _NON_FINITE

    def integer(self, text: str) -> int:
        value = int(text)
        if not -INT64 <= value < INT64:
            self.odd = True
        return value


def _has_lone_surrogate(text: str, document: dict[str, Any]) -> bool:
    """Only a ``\\uD800``-style escape can produce a surrogate; a paired one is fine, so re-encode to tell."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_nesting(text: str, param: str | None, max_depth: int = MAX_DEPTH) -> None:
    """Refuse JSON (or JSON-looking text) nested deeper than ``max_depth``, without recursing.

    Brackets inside JSON strings do not count; anything a JSON parser would
    descend into does, even if the text is not valid JSON further on.
    """
    if nesting_depth(text) <= max_depth:
        return
    where = param or _path_to_depth(text, max_depth) or None
    message = f"nests deeper than {max_depth} levels"
    raise InvalidRequest(f"{where}: {message}" if where else f"request body {message}", param=where)


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside JSON strings, computed in C-speed passes."""
    raw = text.encode("utf-8", "surrogatepass")
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(0, max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0))


def _path_to_depth(text: str, max_depth: int) -> str:
    """Where the nesting first goes past ``max_depth``, as ``messages[0].content``; slow, so only on refusal."""
    frames: list[list[Any]] = []  # [is_object, key or index, expecting a key]
    for token in _TOKEN.findall(text):
        if token in "[{":
            if len(frames) >= max_depth:
                return _render(frames)
            frames.append([token == "{", None if token == "{" else 0, token == "{"])
        elif token in "]}":
            if frames:
                frames.pop()
        elif token == ",":
            if frames and frames[-1][0]:
                frames[-1][2] = True
            elif frames:
                frames[-1][1] += 1
        elif frames and frames[-1][0] and frames[-1][2]:
            frames[-1][1], frames[-1][2] = _key(token), False
    return _render(frames)


def _key(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token[1:-1]


def _render(frames: list[list[Any]]) -> str:
    path = ""
    for is_object, key, _ in frames:
        if is_object:
            path += f".{key}" if path else str(key)
        else:
            path += f"[{key}]"
    return path


Location = tuple[Any, ...] | None  # (parent location, key or index), built as the walk goes; text only on refusal


def _check_values(document: dict[str, Any]) -> None:
    """Walk the parsed document iteratively, checking every string, key and number."""
    pending: list[tuple[Any, Location]] = [(document, None)]
    while pending:
        value, where = pending.pop()
        kind = type(value)
        if kind is str:
            _check_string(value, where)
        elif kind is dict:
            for key, item in value.items():
                _check_string(key, (where, key))
                if type(item) not in _PLAIN:
                    pending.append((item, (where, key)))
        elif kind is list:
            pending.extend((item, (where, index)) for index, item in enumerate(value) if type(item) not in _PLAIN)
        elif value is _NON_FINITE:
            path = _path(where)
            raise InvalidRequest(f"{path}: must be a finite number (no NaN, Infinity or overflow)", param=path)
        elif kind is int and not -INT64 <= value < INT64:
            path = _path(where)
            raise InvalidRequest(f"{path}: integer does not fit in 64 bits", param=path)


_PLAIN = (float, bool, type(None))


def _check_string(text: str, where: Location) -> None:
    if _SURROGATE.search(text):
        path = _path(where)  # RelayError escapes a surrogate key so the 400 can be written
        raise InvalidRequest(f"{path}: contains a lone UTF-16 surrogate, which is not Unicode text", param=path)


def _path(where: Location) -> str:
    parts: list[Any] = []
    while where is not None:
        where, part = where
        parts.append(part)
    path = ""
    for part in reversed(parts):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path

