"""Provider token counts become Usage only when every count is a non-negative integer."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events import Usage
from shared.providers.bedrock.response import usage as bedrock_usage
from shared.providers.openai_compatible import chunk_to_events
from shared.providers.upstream.usage import usage_of
from shared.providers.vertex.native_response import ResponseTranslator


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"p": 3, "c": 4}, Usage(3, 4)),
        ({"p": 3}, Usage(3, 0)),
        ({"p": None, "c": 0}, Usage(0, 0)),
        ({"p": "x", "c": None}, None),
        ({"p": True, "c": 1}, None),
        ({"p": -1, "c": 1}, None),
        ({"p": 1.5, "c": 1}, None),
        ({"p": 1, "c": [2]}, None),
    ],
)
def test_usage_of(body: dict[str, Any], expected: Usage | None) -> None:
    assert usage_of(body, ("p",), ("c",), provider="test") == expected


def test_malformed_usage_is_dropped_with_a_warning_naming_the_field(caplog: pytest.LogCaptureFixture) -> None:
    events = chunk_to_events({"choices": [], "usage": {"prompt_tokens": "x", "completion_tokens": None}})
    assert events == []
    assert "prompt_tokens" in caplog.text and "'x'" not in caplog.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"p": 9, "c": 5, "d": {"cached": 4}, "r": 2}, Usage(9, 5, cached_tokens=4, reasoning_tokens=2)),
        ({"p": 9, "c": 5, "d": None}, Usage(9, 5)),
        ({"p": 9, "c": 5, "d": {}}, Usage(9, 5)),
        ({"p": 9, "c": 5, "d": {"cached": "4"}}, None),
        ({"p": 9, "c": 5, "d": 4}, None),
        ({"p": 9, "c": 5, "r": -1}, None),
        ({"p": 9, "c": 5, "r": True}, None),
    ],
)
def test_cached_and_reasoning_counts_are_checked_like_the_others(body: dict[str, Any], expected: Usage | None) -> None:
    assert usage_of(body, ("p",), ("c",), cached=("d.cached",), reasoning=("r",), provider="test") == expected


def test_a_malformed_detail_count_names_its_path(caplog: pytest.LogCaptureFixture) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 1.5}}
    assert chunk_to_events({"choices": [], "usage": usage}) == []
    assert "prompt_tokens_details.cached_tokens" in caplog.text


def test_openai_details_become_cached_and_reasoning_tokens() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": 6, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    assert chunk_to_events({"choices": [], "usage": usage}) == [Usage(10, 7, cached_tokens=6, reasoning_tokens=5)]


def test_bedrock_prompt_tokens_add_the_cache_reads_and_writes_input_tokens_leaves_out() -> None:
    body = {"inputTokens": 2, "outputTokens": 3, "cacheReadInputTokens": 5, "cacheWriteInputTokens": 7}
    assert bedrock_usage(body) == Usage(14, 3, cached_tokens=5, cache_write_tokens=7)


def test_bedrock_usage_is_checked() -> None:
    assert bedrock_usage({"inputTokens": 2, "outputTokens": 3, "cacheReadInputTokens": 1}) == Usage(
        3, 3, cached_tokens=1
    )
    assert bedrock_usage({"inputTokens": 2, "outputTokens": 3, "cacheWriteInputTokens": "1"}) is None
    assert bedrock_usage({"inputTokens": 2, "outputTokens": "3"}) is None
    assert bedrock_usage({"inputTokens": False, "outputTokens": 3}) is None


def test_vertex_native_usage_is_checked() -> None:
    assert usage_at_end({"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 1}) == [
        Usage(4, 3, reasoning_tokens=1)
    ]
    assert usage_at_end({"promptTokenCount": 4, "candidatesTokenCount": 2, "cachedContentTokenCount": "3"}) == []
    assert usage_at_end({"promptTokenCount": 4, "candidatesTokenCount": -2}) == []


def test_gemini_cached_tokens_are_already_inside_the_prompt_count() -> None:
    metadata = {
        "promptTokenCount": 40,
        "cachedContentTokenCount": 32,
        "candidatesTokenCount": 2,
        "thoughtsTokenCount": 6,
    }
    assert usage_at_end(metadata) == [Usage(40, 8, cached_tokens=32, reasoning_tokens=6)]


def usage_at_end(metadata: dict[str, Any]) -> list[Usage]:
    translator = ResponseTranslator()
    translator.events({"candidates": [{"content": {"parts": []}, "finishReason": "STOP"}], "usageMetadata": metadata})
    return [event for event in translator.end() if isinstance(event, Usage)]
