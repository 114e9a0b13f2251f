"""Converse events -> canonical events, and Bedrock failures -> relay errors: tables, no network."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import (
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from shared.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from shared.providers.bedrock.failures import open_failure, stream_exception
from shared.providers.bedrock.response import ConverseTranslator, finish_reason, usage
from shared.providers.upstream.failures import client_message


def delta(index: int, **content: Any) -> tuple[str, dict[str, Any]]:
    return "contentBlockDelta", {"contentBlockIndex": index, "delta": content}


def tool_start(index: int, tool_id: str, name: str) -> tuple[str, dict[str, Any]]:
    return "contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_id, "name": name}}}


def translate(events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    translator = ConverseTranslator()
    out = [event for kind, body in events for event in translator.feed(kind, body)]
    return [*out, translator.end()]


STOP = ("messageStop", {"stopReason": "end_turn"})


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [
                ("messageStart", {"role": "assistant"}),
                delta(0, text="Hel"),
                delta(0, text="lo"),
                ("contentBlockStop", {"contentBlockIndex": 0}),
                STOP,
            ],
            [TextDelta("Hel"), TextDelta("lo"), Finish("stop")],
            id="text",
        ),
        pytest.param(
            [delta(0, text=""), delta(0, text="x"), STOP],
            [TextDelta("x"), Finish("stop")],
            id="empty text deltas are skipped",
        ),
        pytest.param(
            [
                delta(0, reasoningContent={"text": "hmm"}),
                delta(0, reasoningContent={"signature": "c2ln"}),
                delta(0, reasoningContent={"redactedContent": "cmVk"}),
                delta(1, text="A"),
                STOP,
            ],
            [
                ReasoningDelta("hmm"),
                ReasoningDelta("", signature="c2ln", provider="bedrock"),
                ReasoningDelta("", redacted="cmVk", provider="bedrock"),
                TextDelta("A"),
                Finish("stop"),
            ],
            id="reasoning text, its signature and redacted reasoning are relayed, tagged bedrock",
        ),
        pytest.param(
            [
                delta(0, text="Checking."),
                tool_start(1, "tooluse_a", "weather"),
                delta(1, toolUse={"input": '{"city":'}),
                delta(1, toolUse={"input": ""}),
                delta(1, toolUse={"input": '"Paris"}'}),
                tool_start(2, "tooluse_b", "time"),
                delta(2, toolUse={"input": "{}"}),
                ("messageStop", {"stopReason": "tool_use"}),
            ],
            [
                TextDelta("Checking."),
                ToolCallDelta(index=0, id="tooluse_a", name="weather"),
                ToolCallDelta(index=0, arguments='{"city":'),
                ToolCallDelta(index=0, arguments='"Paris"}'),
                ToolCallDelta(index=1, id="tooluse_b", name="time"),
                ToolCallDelta(index=1, arguments="{}"),
                Finish("tool_calls"),
            ],
            id="tool calls numbered apart from content blocks",
        ),
        pytest.param(
            [STOP, ("metadata", {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {}})],
            [Usage(3, 4), Finish("stop")],
            id="usage arrives after the stop, finish stays last",
        ),
        pytest.param(
            [
                delta(0, text="Paris is the capital."),
                delta(0, citation={"title": "atlas", "sourceContent": [{"text": "Paris"}], "location": {}}),
                ("messageStop", {"stopReason": "guardrail_intervened"}),
                ("metadata", {"usage": {"inputTokens": 2, "outputTokens": 5, "totalTokens": 7}, "trace": {}}),
            ],
            [TextDelta("Paris is the capital."), Usage(2, 5), Finish("content_filter")],
            id="citations and guardrail traces are dropped, a guardrail block is content_filter",
        ),
        pytest.param(
            [("contentBlockStart", {"contentBlockIndex": 0, "start": {"image": {}}}), ("someFutureEvent", {}), STOP],
            [Finish("stop")],
            id="unknown events and block starts carry nothing",
        ),
    ],
)
def test_translation(events: list[tuple[str, dict[str, Any]]], expected: list[Any]) -> None:
    assert translate(events) == expected


def test_end_without_message_stop_is_a_truncation() -> None:
    translator = ConverseTranslator()
    translator.feed(*delta(0, text="partial"))
    with pytest.raises(UpstreamUnavailable) as caught:
        translator.end()
    assert caught.value.code == "upstream_truncated" and caught.value.retryable


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_model_output", "stop"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(stop_reason: object, finish: str) -> None:
    assert finish_reason(stop_reason) == finish


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"inputTokens": 10, "outputTokens": 2, "totalTokens": 12}, Usage(10, 2)),
        (
            {"inputTokens": 10, "outputTokens": 2, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 5},
            Usage(115, 2, cached_tokens=100, cache_write_tokens=5),
        ),
        ({}, Usage(0, 0)),
        (None, None),
    ],
)
def test_usage(body: Any, expected: Usage | None) -> None:
    assert usage(body) == expected


@pytest.mark.parametrize(
    ("status", "code", "headers", "error_type", "relay_code", "retryable", "retry_after"),
    [
        (429, "ThrottlingException", {"retry-after": "4"}, UpstreamRateLimited, "rate_limit_exceeded", True, 4.0),
        (429, "ThrottlingException", {}, UpstreamRateLimited, "rate_limit_exceeded", True, None),
        (429, "ModelNotReadyException", {}, UpstreamRateLimited, "rate_limit_exceeded", True, None),
        (400, "ServiceQuotaExceededException", {}, UpstreamRateLimited, "rate_limit_exceeded", True, None),
        (
            503,
            "ServiceUnavailableException",
            {"retry-after": "2"},
            UpstreamUnavailable,
            "upstream_unavailable",
            True,
            2.0,
        ),
        (500, "InternalServerException", {}, UpstreamUnavailable, "upstream_unavailable", True, None),
        (502, "502", {}, UpstreamUnavailable, "upstream_unavailable", True, None),
        (408, "ModelTimeoutException", {}, UpstreamUnavailable, "upstream_unavailable", True, None),
        (424, "ModelErrorException", {}, UpstreamUnavailable, "upstream_unavailable", True, None),
        (403, "AccessDeniedException", {}, UpstreamUnavailable, "upstream_auth_failed", True, None),
        (403, "UnrecognizedClientException", {}, UpstreamUnavailable, "upstream_auth_failed", True, None),
        (400, "ExpiredTokenException", {}, UpstreamUnavailable, "upstream_auth_failed", True, None),
        (404, "ResourceNotFoundException", {}, UpstreamUnavailable, "upstream_not_found", True, None),
        (400, "ValidationException", {}, UpstreamRejected, "ValidationException", False, None),
    ],
)
def test_open_failures(
    status: int,
    code: str,
    headers: dict[str, str],
    error_type: type[UpstreamError],
    relay_code: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    error = open_failure(status, code, "details", headers, "east")
    assert type(error) is error_type
    assert (error.code, error.retryable, error.retry_after) == (relay_code, retryable, retry_after)


def test_validation_message_is_passed_on_for_the_relay_to_scrub() -> None:
    """Adapters pass upstream text on; the relay scrubs it once, where it enters the stream."""
    error = open_failure(400, "ValidationException", "see https://docs.aws.amazon.com/x?key=1 for limits", {}, "e")
    assert error.message == "see https://docs.aws.amazon.com/x?key=1 for limits"
    assert error.status == 400


@pytest.mark.parametrize(
    ("exception", "error_type", "code", "retryable"),
    [
        ("throttlingException", UpstreamRateLimited, "rate_limit_exceeded", True),
        ("modelStreamErrorException", UpstreamError, "model_stream_error", True),
        ("internalServerException", UpstreamUnavailable, "upstream_unavailable", True),
        ("serviceUnavailableException", UpstreamUnavailable, "upstream_unavailable", True),
        ("validationException", UpstreamRejected, "upstream_rejected", False),
        ("brandNewException", UpstreamError, "upstream_error", False),
    ],
)
def test_stream_exceptions(exception: str, error_type: type[UpstreamError], code: str, retryable: bool) -> None:
    error = stream_exception(exception, "it broke")
    assert type(error) is error_type
    assert (error.code, error.retryable) == (code, retryable)
    assert error.message == "the upstream failed mid-stream: it broke"


def test_client_message_is_bounded() -> None:
    assert len(client_message("x" * 10_000)) == 500


def test_the_structured_output_tool_is_answered_as_text() -> None:
    """Its input deltas are the answer's text; a turn that called only it finishes ``stop``."""
    translator = ConverseTranslator(answer_tool="structured_output")
    events = [
        tool_start(0, "t1", "structured_output"),
        delta(0, toolUse={"input": '{"a":'}),
        delta(0, toolUse={"input": " 1}"}),
        ("messageStop", {"stopReason": "tool_use"}),
    ]
    out = [event for kind, body in events for event in translator.feed(kind, body)]
    assert [*out, translator.end()] == [TextDelta('{"a":'), TextDelta(" 1}"), Finish("stop")]


def test_other_tools_beside_the_structured_output_tool_stay_tool_calls() -> None:
    translator = ConverseTranslator(answer_tool="structured_output")
    events = [
        tool_start(0, "t1", "weather"),
        delta(0, toolUse={"input": "{}"}),
        ("messageStop", {"stopReason": "tool_use"}),
    ]
    out = [event for kind, body in events for event in translator.feed(kind, body)]
    assert [*out, translator.end()] == [
        ToolCallDelta(index=0, id="t1", name="weather"),
        ToolCallDelta(index=0, arguments="{}"),
        Finish("tool_calls"),
    ]
