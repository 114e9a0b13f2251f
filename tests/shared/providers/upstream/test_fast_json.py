"""The chunk decoder decodes exactly what ``json`` decodes, to the same values, and refuses what ``json`` refuses."""

from __future__ import annotations

import json

import pytest

from shared.providers.upstream.fast_json import loads

SAME_AS_JSON = [
    '{"choices":[{"delta":{"content":"こんにちは 👋 \\u00e9\\ud83d\\ude00"}}],"n":1.5e3}',
    '{"big":18446744073709551615,"small":-9223372036854775808}',  # the 64-bit extremes stay exact ints
    '{"nan":NaN,"inf":-Infinity}',  # orjson refuses, json accepts
    '{"lone":"\\ud800"}',  # a lone surrogate escape: orjson refuses, json keeps it
    '{"dup":1,"dup":2}',
    '"a string"',
]


@pytest.mark.parametrize("text", SAME_AS_JSON)
def test_every_document_decodes_to_what_json_gives(text: str) -> None:
    expected, got = json.loads(text), loads(text)
    assert repr(got) == repr(expected)
    assert repr(loads(text.encode("utf-8", "surrogatepass"))) == repr(expected)


@pytest.mark.parametrize("text", ["", "{", '{"a":1} trailing', "{'a': 1}"])
def test_what_json_refuses_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text)


def test_an_integer_beyond_64_bits_decodes_as_the_nearest_float() -> None:
    big = 123456789012345678901234567890
    assert loads(f'{{"big":{big}}}') == {"big": float(big)}
