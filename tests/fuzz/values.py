"""Leaf values for fuzzing: odd text, free-form JSON and the values no field should get.

Hypothesis's text never holds a lone surrogate, so :func:`odd_text` mixes
them in, with the other characters that break encoders: NUL, bidi controls,
zero-width joiners, combining marks, astral emoji and non-characters.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.json_text import Raw, nested

LONE_SURROGATES = ["\ud800", "\udfff", "\udc00\ud800", "a\ud83d"]
ODD_CHARACTERS = ["\x00", "\u202e", "\u200d", "\u0301", "\ufeff", "\uffff", "\U0001f680", "\U0010ffff", "\r\n", "\\"]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0"]
MAX_DEPTH = 2000


def odd_text(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Mostly ordinary text, sometimes with a character that breaks encoders."""
    plain = st.text(min_size=min_size, max_size=max_size)
    odd = st.lists(st.sampled_from(LONE_SURROGATES + ODD_CHARACTERS) | plain, min_size=max(min_size, 1), max_size=4)
    return st.one_of(plain, plain, plain, odd.map("".join))


def non_finite() -> st.SearchStrategy[Raw]:
    """Number literals Python's JSON accepts but JSON (and most providers) do not."""
    return st.sampled_from(NON_FINITE).map(Raw)


def deep_nesting() -> st.SearchStrategy[Raw]:
    """Arrays or objects nested up to :data:`MAX_DEPTH` levels, often past Python's recursion limit."""
    depth = st.one_of(st.integers(1, 64), st.integers(900, MAX_DEPTH), st.just(MAX_DEPTH))
    return st.builds(nested, depth, st.sampled_from(["0", '"x"', "NaN"]), st.sampled_from(["array", "object"]))


def nested_json_text() -> st.SearchStrategy[str]:
    """A string whose content is deeply nested JSON, as in a tool call's ``arguments``."""
    return deep_nesting().map(lambda raw: raw.text)


def huge() -> st.SearchStrategy[Any]:
    """Values whose size is the problem: long strings (some past the body limit), long lists, huge integers."""
    return st.one_of(
        st.integers(10_000, 1_200_000).map(lambda size: "x" * size),
        st.integers(1_000, 50_000).map(lambda size: [0] * size),
        # As text: Python will not even format an int past 4,300 digits, and json.loads refuses to parse one.
        st.integers(20, 5_000).map(lambda digits: Raw("9" * digits)),
        st.integers(20, 400).map(lambda digits: Raw("1" + "0" * digits + ".5e" + str(digits))),
    )


def free_json() -> st.SearchStrategy[Any]:
    """Arbitrary JSON, a little of it not strictly JSON (non-finite numbers, surrogates)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        odd_text(),
        non_finite(),
    )
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(odd_text(max_size=8), children, max_size=3),
        max_leaves=8,
    )


def wrong_values() -> st.SearchStrategy[Any]:
    """What a careless or hostile client puts where a field should be."""
    return st.one_of(
        free_json(),
        st.sampled_from([None, True, 0, -1, 1.5, "", [], {}, "null", "true", "1"]),
        non_finite(),
        st.sampled_from(LONE_SURROGATES),
        deep_nesting(),
        nested_json_text(),
        huge(),
    )
