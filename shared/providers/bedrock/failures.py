"""Bedrock's failures as relay errors.

Three places can fail, and each gets its own mapping:

* the HTTP answer to ``ConverseStream`` (an error code such as
  ``ThrottlingException`` with a status), before any byte reached the client,
  so retryable ones let the router fail over;
* an exception message inside an open event stream (``throttlingException``,
  ``modelStreamErrorException``...), which can only end the client's stream;
* the connection itself (unreachable, timed out, cut mid-stream).

Access denied means the relay's own credentials or model access are wrong, not
the client's request: like the Azure adapter's 401/403 it is logged and
reported as ``upstream_auth_failed``, retryable on another backend.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import aiohttp

from ...errors import (
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ...retry_after import retry_after_seconds

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 500

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

# In-stream exception type -> (relay error class, code, retryable).
STREAM_EXCEPTIONS: dict[str, tuple[type[UpstreamError], str, bool]] = {
    "throttlingException": (UpstreamRateLimited, "rate_limit_exceeded", True),
    "modelStreamErrorException": (UpstreamError, "model_stream_error", True),
    "internalServerException": (UpstreamUnavailable, "upstream_unavailable", True),
    "serviceUnavailableException": (UpstreamUnavailable, "upstream_unavailable", True),
    "validationException": (UpstreamRejected, "upstream_rejected", False),
}


def open_failure(status: int, code: str, message: str, headers: Mapping[str, str], backend: str) -> UpstreamError:
    """An error answer to ``ConverseStream``, typed for the router."""
    retry_after = retry_after_seconds(headers)
    if code in RATE_LIMITS or status == 429:
        return UpstreamRateLimited(f"backend {backend} is rate limited", retry_after=retry_after)
    if code in AUTH_FAILURES or status in (401, 403):
        logger.error("backend %s refused the relay's credentials or model access (%s)", backend, code)
        return UpstreamUnavailable(
            f"backend {backend} refused the relay's credentials", code="upstream_auth_failed", retryable=True
        )
    if code == "ResourceNotFoundException" or status == 404:
        logger.error("backend %s answered %s: check its model_id and region", backend, code)
        return UpstreamUnavailable(
            f"backend {backend} was not found upstream", code="upstream_not_found", retryable=True
        )
    if status in (408, 424) or status >= 500:
        return UpstreamUnavailable(f"backend {backend} failed ({code})", retryable=True, retry_after=retry_after)
    # The request's content was refused (ValidationException): another backend would refuse it too.
    return UpstreamRejected(client_message(message) or f"backend {backend} rejected the request", code=code)


def stream_exception(exception_type: str, message: str) -> RelayError:
    """An exception message inside the event stream; it ends the client's stream."""
    error_type, code, retryable = STREAM_EXCEPTIONS.get(exception_type, (UpstreamError, "upstream_error", False))
    return error_type(f"the upstream failed mid-stream: {client_message(message)}", code=code, retryable=retryable)


def stream_error(headers: Mapping[str, object]) -> RelayError:
    """A generic ``error`` message (``:error-code``, ``:error-message``) inside the event stream."""
    code = str(headers.get(":error-code") or "upstream_error")
    message = client_message(str(headers.get(":error-message") or "unknown error"))
    return UpstreamUnavailable(f"the upstream failed mid-stream: {message}", code=code)


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
        return UpstreamTimeout(f"backend {backend} did not answer in time")
    if streaming:
        return UpstreamUnavailable(
            f"the connection to backend {backend} was lost mid-stream", code="upstream_disconnected"
        )
    return UpstreamUnavailable(f"backend {backend} could not be reached")


def client_message(message: str) -> str:
    """The upstream's message, bounded; the relay scrubs it where it enters the stream."""
    return (message or "")[:MAX_MESSAGE_CHARS]
