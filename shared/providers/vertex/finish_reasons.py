"""Gemini's ``finishReason`` values in the relay's vocabulary.

OpenAI clients know four finish reasons: ``stop``, ``length``,
``tool_calls`` and ``content_filter``. Gemini has many more. Those that mean
"the model's output was withheld" become ``content_filter``. Those that mean
the model produced something unusable (a malformed or unexpected function
call, a malformed response) become a terminal error instead: reporting
``stop`` would hand the client an empty or broken answer dressed as a
success, and a tool loop would end silently. Those errors are retryable,
because sampling again often succeeds; a missing thought signature is the
request's fault and is not. Anything else (``OTHER``, unspecified, values
added after this was written) reads as ``stop`` and is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ...errors import UpstreamError

logger = logging.getLogger(__name__)

CONTENT_FILTER_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MODEL_ARMOR",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)


@dataclass(frozen=True, slots=True)
class FailedFinish:
    """How a finish reason that means failure is told to the client."""

    code: str
    message: str
    retryable: bool


FAILED_FINISHES = {
    "MALFORMED_FUNCTION_CALL": FailedFinish(
        "malformed_function_call", "the model produced a function call that is not valid", retryable=True
    ),
    "UNEXPECTED_TOOL_CALL": FailedFinish(
        "unexpected_tool_call", "the model called a tool although no tool was available", retryable=True
    ),
    "TOO_MANY_TOOL_CALLS": FailedFinish(
        "too_many_tool_calls", "the model made more tool calls in a row than the provider allows", retryable=True
    ),
    "MALFORMED_RESPONSE": FailedFinish(
        "malformed_response", "the model's response could not be parsed by the provider", retryable=True
    ),
    "MISSING_THOUGHT_SIGNATURE": FailedFinish(
        "missing_thought_signature",
        "the request replays a function call without the thought signature the provider issued",
        retryable=False,
    ),
    "LANGUAGE": FailedFinish(
        "unsupported_language",
        "the model stopped because the conversation's language is not supported",
        retryable=False,
    ),
}


def finish_reason(gemini_reason: str, called_tools: bool) -> str:
    """A finishing Gemini reason in OpenAI's vocabulary; failures are :func:`finish_failure`'s.

    Gemini reports ``STOP`` when it stops to call a tool; OpenAI clients
    expect ``tool_calls`` then.
    """
    if gemini_reason == "MAX_TOKENS":
        return "length"
    if gemini_reason in CONTENT_FILTER_REASONS:
        return "content_filter"
    if gemini_reason != "STOP":
        logger.warning("Gemini finished with %s; reported to the client as stop", gemini_reason)
    return "tool_calls" if called_tools else "stop"


def finish_failure(gemini_reason: str) -> UpstreamError | None:
    """The terminal error a Gemini reason stands for, or None when it finishes normally."""
    failed = FAILED_FINISHES.get(gemini_reason)
    if failed is None:
        return None
    return UpstreamError(failed.message, code=failed.code, retryable=failed.retryable)


OPENAI_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter"})


def openai_compatible_finish(reason: str, called_tools: bool) -> str:
    """The finish reason of Vertex's OpenAI-compatible endpoint, normalised.

    That endpoint reports ``stop`` for a streamed turn that called tools (and
    ``tool_calls`` for the same turn unstreamed), so a stream that carried
    tool calls finishes ``tool_calls``. A Gemini reason passed through in
    either case is read as the native API's would be.
    """
    if reason == "stop" and called_tools:
        return "tool_calls"
    if reason in OPENAI_REASONS:
        return reason
    gemini_reason = reason.upper()
    failure = finish_failure(gemini_reason)
    if failure is not None:
        raise failure
    return finish_reason(gemini_reason, called_tools)
