"""The JSON checks themselves: depth without recursion, and where a refused value is."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest
from shared.json_body import MAX_DEPTH, check_nesting, load_object, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [[1], {"b": [2]}]}', 4),
        ('{"a": "[[[[{{{{"}', 1),
        ('{"a": "quote \\" then [[[[", "b": []}', 2),
        ("plain text, no JSON", 0),
        ("[" * 10_000, 10_000),
        ("]]]] [[", 0),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_nesting_at_the_limit_passes_and_one_more_is_named() -> None:
    check_nesting("[" * MAX_DEPTH + "]" * MAX_DEPTH, param="x")
    with pytest.raises(InvalidRequest) as caught:
        check_nesting("[" * (MAX_DEPTH + 1), param="messages[1].content")
    assert caught.value.param == "messages[1].content"


def test_the_path_to_deep_nesting_follows_keys_and_indices() -> None:
    raw = '{"a": 1, "b": [0, {"c": "}", "d": ' + "[" * 100 + "]" * 100 + "}]}"
    with pytest.raises(InvalidRequest) as caught:
        load_object(raw.encode())
    assert str(caught.value.param).startswith("b[1].d[0][0]")


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b'{"a": [1, {"b": NaN}]}', "a[1].b"),
        (b'{"a": {"b": [Infinity]}}', "a.b[0]"),
        (b'{"a": -1e999}', "a"),
        (b'{"a": [0, 9223372036854775808]}', "a[1]"),
        (b'{"a": -9223372036854775809}', "a"),
        (b'{"a": ["ok", "\\udc00"]}', "a[1]"),
    ],
)
def test_refused_values_are_named_by_path(raw: bytes, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        load_object(raw)
    assert caught.value.param == param


def test_values_every_provider_takes_pass_unchanged() -> None:
    raw = '{"a": "\\ud83d\\ude00 \\u0000", "b": [9223372036854775807, -9223372036854775808, 1e308, 1e-400]}'
    assert load_object(raw.encode()) == {"a": "😀 \x00", "b": [2**63 - 1, -(2**63), 1e308, 0.0]}
