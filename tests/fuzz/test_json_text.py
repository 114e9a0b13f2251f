"""The fuzz encoder writes what ``json.dumps`` refuses or cannot reach, exactly as asked."""

from __future__ import annotations

import copy
import json

from tests.fuzz.json_text import ALIAS, Raw, encode, nested


def test_alias_is_replaced_and_survives_deepcopy() -> None:
    assert encode(copy.deepcopy({"model": ALIAS}), "bedrock") == b'{"model":"bedrock"}'


def test_raw_literals_are_written_verbatim() -> None:
    body = encode({"a": Raw("1e400"), "b": [Raw("NaN"), float("inf")]}, "x")
    assert body == b'{"a":1e400,"b":[NaN,Infinity]}'


def test_lone_surrogates_are_escaped_or_written_as_invalid_utf8() -> None:
    assert encode(["\ud800"], "x") == b'["\\ud800"]'
    raw = encode(["\ud800"], "x", ascii=False)
    assert raw == b'["\xed\xa0\x80"]'
    assert json.loads(encode(["é"], "x", ascii=False)) == ["é"]


def test_nesting_past_the_recursion_limit_is_built_as_text() -> None:
    body = encode({"deep": nested(5000, shape="object")}, "x")
    assert body.count(b'{"a":') == 5000
    assert body.endswith(b"0" + b"}" * 5001)
