"""What a request's end says about its backend."""

from __future__ import annotations

import pytest

from shared.errors import (
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from shared.events import Finish, StreamError, TerminalEvent
from shared.routing.outcome import Outcome, Verdict, outcome_of_end, outcome_of_error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamRateLimited("x", retry_after=3), Outcome(Verdict.RATE_LIMITED, 3)),
        (UpstreamRateLimited("x"), Outcome(Verdict.RATE_LIMITED, None)),
        (UpstreamUnavailable("x"), Outcome(Verdict.FAILURE)),
        (UpstreamUnavailable("x", code="upstream_auth_failed", retryable=True), Outcome(Verdict.FAILURE)),
        (UpstreamUnavailable("x", retry_after=8), Outcome(Verdict.FAILURE, 8)),
        (UpstreamTimeout("x"), Outcome(Verdict.FAILURE)),
        (UpstreamRejected("x"), Outcome(Verdict.NEUTRAL)),
        (UpstreamError("x", code="content_filter"), Outcome(Verdict.NEUTRAL)),
    ],
)
def test_open_errors(error: RelayError, expected: Outcome) -> None:
    assert outcome_of_error(error) == expected


@pytest.mark.parametrize(
    ("terminal", "expected"),
    [
        (Finish("stop"), Outcome(Verdict.SUCCESS)),
        (Finish("content_filter"), Outcome(Verdict.SUCCESS)),
        (None, Outcome(Verdict.NEUTRAL)),
        (StreamError("upstream_disconnected", "x", retryable=True), Outcome(Verdict.FAILURE)),
        (StreamError("idle_timeout", "x", retryable=True), Outcome(Verdict.FAILURE)),
        (StreamError("first_token_timeout", "x", retryable=True), Outcome(Verdict.FAILURE)),
        (StreamError("rate_limit_exceeded", "x", retryable=True, retry_after=4), Outcome(Verdict.RATE_LIMITED, 4)),
        (StreamError("internal_error", "x", retryable=True), Outcome(Verdict.NEUTRAL)),
        (StreamError("content_filter", "x"), Outcome(Verdict.NEUTRAL)),
    ],
)
def test_stream_ends(terminal: TerminalEvent | None, expected: Outcome) -> None:
    assert outcome_of_end(terminal) == expected
