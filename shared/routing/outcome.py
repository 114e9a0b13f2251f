"""What one request taught the router about the backend that handled it.

Only the backend's own faults count against it: a request the upstream
rejected as invalid, a client that went away, or a failure inside the relay
says nothing about the backend's health.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..errors import INTERNAL_ERROR, RATE_LIMIT_EXCEEDED, RelayError
from ..events import Finish, StreamError, TerminalEvent

RELAY_FAULT_CODES = frozenset({INTERNAL_ERROR})


class Verdict(Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    RATE_LIMITED = "rate_limited"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verdict and, for failures and rate limits, the upstream's Retry-After in seconds."""

    verdict: Verdict
    retry_after: float | None = None


SUCCESS = Outcome(Verdict.SUCCESS)
NEUTRAL = Outcome(Verdict.NEUTRAL)


def outcome_of_error(error: RelayError) -> Outcome:
    """The verdict on a backend that refused to open a stream."""
    return _judge(error.code, error.status == 429, error.retryable, error.retry_after)


def outcome_of_end(terminal: TerminalEvent | None) -> Outcome:
    """The verdict on a backend whose stream ended with ``terminal`` (None: it never ended)."""
    if isinstance(terminal, Finish):
        return SUCCESS
    if isinstance(terminal, StreamError):
        limited = terminal.code == RATE_LIMIT_EXCEEDED
        return _judge(terminal.code, limited, terminal.retryable, terminal.retry_after)
    return NEUTRAL


def _judge(code: str, limited: bool, retryable: bool, retry_after: float | None) -> Outcome:
    if limited:
        return Outcome(Verdict.RATE_LIMITED, retry_after)
    if retryable and code not in RELAY_FAULT_CODES:
        return Outcome(Verdict.FAILURE, retry_after)
    return NEUTRAL
