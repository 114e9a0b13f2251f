"""An OpenAI-protocol upstream's errors as relay errors.

Servers of the protocol answer ``{"error": {"message", "code", "type"}}``,
before the stream (as an HTTP status the SDK raises) or inside it (as an
SSE frame). A server that words its errors differently while speaking the
protocol (Google's front end for Vertex) supplies its own
:class:`ErrorWording`; the mapping itself stays here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import openai

from ..errors import RATE_LIMIT_EXCEEDED, UPSTREAM_ERROR, RelayError, UpstreamError
from .upstream.failures import client_message, failed_mid_stream, timed_out, unreachable
from .upstream.http_status import status_error

# What the SDK raises for a mid-stream error frame whose error has no message.
MID_STREAM_ERROR = "An error occurred during streaming"


def error_fields(body: object) -> Mapping[str, Any]:
    """The inner error object of an ``{"error": {...}}`` body (or the body itself); empty if there is none."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            return inner
    return {}


def error_code(fields: Mapping[str, Any]) -> str | None:
    """The error's ``code``, or its ``type`` when it has none."""
    code = fields.get("code") or fields.get("type")
    return str(code) if code else None


@dataclass(frozen=True)
class ErrorWording:
    """How one upstream words errors: where the error object is, its code, and which codes are worth retrying."""

    fields: Callable[[object], Mapping[str, Any]] = error_fields
    code: Callable[[Mapping[str, Any]], str | None] = error_code
    retryable_codes: frozenset[str] = frozenset(
        {RATE_LIMIT_EXCEEDED, "429", "server_error", "InternalServerError", "500", "503"}
    )

    def message(self, body: object) -> str | None:
        message = self.fields(body).get("message")
        return message if isinstance(message, str) else None

    def stream_error(self, body: object, fallback: str = MID_STREAM_ERROR) -> UpstreamError:
        """An error reported inside an otherwise healthy stream."""
        code = self.code(self.fields(body)) or UPSTREAM_ERROR
        message = self.message(body) or fallback
        return failed_mid_stream(message, code=code, retryable=code in self.retryable_codes)


OPENAI_ERRORS = ErrorWording()


def upstream_error(exc: openai.APIError, backend: str, wording: ErrorWording = OPENAI_ERRORS) -> RelayError:
    """An SDK exception as a relay error the client may see; never leaks upstream URLs."""
    if isinstance(exc, openai.APITimeoutError):
        return timed_out(backend)
    if isinstance(exc, openai.APIConnectionError):
        return unreachable(backend)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, backend, wording)
    return wording.stream_error(exc.body, exc.message)


def _status_error(exc: openai.APIStatusError, backend: str, wording: ErrorWording) -> UpstreamError:
    message = wording.message(exc.body) or exc.message
    return status_error(
        backend,
        exc.status_code,
        exc.response.headers,
        message=client_message(message),
        code=wording.code(wording.fields(exc.body)),
        not_found_hint="check its endpoint and model settings",
    )
