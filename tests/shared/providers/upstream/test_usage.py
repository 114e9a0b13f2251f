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


def test_bedrock_usage_is_checked() -> None:
    assert bedrock_usage({"inputTokens": 2, "outputTokens": 3, "cacheReadInputTokens": 1}) == Usage(3, 3)
    assert bedrock_usage({"inputTokens": 2, "outputTokens": "3"}) is None
    assert bedrock_usage({"inputTokens": False, "outputTokens": 3}) is None


def test_vertex_native_usage_is_checked() -> None:
    assert usage_at_end({"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 1}) == [Usage(4, 3)]
    assert usage_at_end({"promptTokenCount": 4, "candidatesTokenCount": -2}) == []


def usage_at_end(metadata: dict[str, Any]) -> list[Usage]:
    translator = ResponseTranslator()
    translator.events({"candidates": [{"content": {"parts": []}, "finishReason": "STOP"}], "usageMetadata": metadata})
    return [event for event in translator.end() if isinstance(event, Usage)]
