"""Bedrock's failures as relay errors.

Three places can fail, and each gets its own mapping:

* the HTTP answer to ``ConverseStream`` (an error code such as
  ``ThrottlingException`` with a status), before any byte reached the client,
  so retryable ones let the router fail over;
* an exception message inside an open event stream (``throttlingException``,
  ``modelStreamErrorException``...), which can only end the client's stream;
* the connection itself (unreachable, timed out, cut mid-stream).

Bedrock's error codes are read as the HTTP status they stand for and then
go through the shared status policy (:mod:`..upstream.http_status`): access denied,
for one, is the relay's own credentials or model access, not the client's
request, and is reported as ``upstream_auth_failed`` like any provider's 403.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import aiohttp

from ...errors import (
    MODEL_STREAM_ERROR,
    RATE_LIMIT_EXCEEDED,
    UPSTREAM_ERROR,
    UPSTREAM_REJECTED,
    UPSTREAM_UNAVAILABLE,
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from ..upstream.failures import client_message, failed_mid_stream, lost_mid_stream, timed_out, unreachable
from ..upstream.http_status import status_error

AUTH_FAILURES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
    }
)
RATE_LIMITS = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
NOT_FOUND = "ResourceNotFoundException"
# 424 Failed Dependency: the model itself failed, which another backend may not.
MODEL_FAILED = 424

# In-stream exception type -> (relay error class, code, retryable).
STREAM_EXCEPTIONS: dict[str, tuple[type[UpstreamError], str, bool]] = {
    "throttlingException": (UpstreamRateLimited, RATE_LIMIT_EXCEEDED, True),
    "modelStreamErrorException": (UpstreamError, MODEL_STREAM_ERROR, True),
    "internalServerException": (UpstreamUnavailable, UPSTREAM_UNAVAILABLE, True),
    "serviceUnavailableException": (UpstreamUnavailable, UPSTREAM_UNAVAILABLE, True),
    "validationException": (UpstreamRejected, UPSTREAM_REJECTED, False),
}


def open_failure(status: int, code: str, message: str, headers: Mapping[str, str], backend: str) -> UpstreamError:
    """An error answer to ``ConverseStream``, typed for the router by the shared status policy.

    A refused request's content (``ValidationException``) keeps Bedrock's code.
    """
    return status_error(
        backend,
        policy_status(status, code),
        headers,
        message=client_message(message),
        code=code,
        not_found_hint="check its model_id and region",
        reason=code,
    )


def policy_status(status: int, code: str) -> int:
    """The HTTP status Bedrock's error ``code`` stands for, when it says more than ``status``."""
    if code in RATE_LIMITS or status == 429:
        return 429
    if status in (401, 403):
        return status
    if code in AUTH_FAILURES:
        return 403
    if code == NOT_FOUND:
        return 404
    if status == MODEL_FAILED:
        return 502
    return status


def stream_exception(exception_type: str, message: str) -> RelayError:
    """An exception message inside the event stream; it ends the client's stream."""
    kind, code, retryable = STREAM_EXCEPTIONS.get(exception_type, (UpstreamError, UPSTREAM_ERROR, False))
    return failed_mid_stream(message, code=code, retryable=retryable, kind=kind)


def stream_error(headers: Mapping[str, object]) -> RelayError:
    """A generic ``error`` message (``:error-code``, ``:error-message``) inside the event stream."""
    code = str(headers.get(":error-code") or UPSTREAM_ERROR)
    message = str(headers.get(":error-message") or "unknown error")
    return failed_mid_stream(message, code=code, retryable=True, kind=UpstreamUnavailable)


def exception_message(payload: bytes) -> str:
    """The human message of an exception message's payload, JSON or not."""
    try:
        document = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if not isinstance(document, dict):
        return ""
    return str(document.get("message") or document.get("Message") or "")


def transport_failure(exc: aiohttp.ClientError | TimeoutError, backend: str, *, streaming: bool) -> UpstreamError:
    """A connection that could not be made, timed out, or broke."""
    if isinstance(exc, TimeoutError):
        return timed_out(backend)
    if streaming:
        return lost_mid_stream(backend)
    return unreachable(backend)
