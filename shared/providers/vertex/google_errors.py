"""Google API error documents as relay errors.

Google answers every failure with ``{"error": {"code", "message", "status",
"details"}}``, where ``code`` is the HTTP status and ``status`` the canonical
name (``RESOURCE_EXHAUSTED``). A streaming method wraps that document in a
one-element JSON array, and a failure after the stream started arrives as an
SSE event carrying the bare document. Google's front end words errors this
way on the OpenAI-compatible endpoint too: :data:`GOOGLE_ERRORS` tells the
OpenAI-protocol mapping so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from ...errors import UPSTREAM_ERROR, UpstreamError
from ..openai_errors import OPENAI_ERRORS, ErrorWording, error_code
from ..openai_errors import error_fields as openai_error_fields
from ..upstream.failures import client_message, failed_mid_stream
from ..upstream.http_status import status_error as relay_status_error

logger = logging.getLogger(__name__)

# Canonical statuses worth trying again, on this backend later or on another now.
RETRYABLE_STATUSES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"})
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def error_fields(body: object) -> Mapping[str, Any]:
    """The inner error object of a Google error body, list-wrapped or not; empty if there is none."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    return openai_error_fields(body)


def google_code(fields: Mapping[str, Any]) -> str | None:
    """The canonical status (``resource_exhausted``) when ``code`` is the HTTP status, as Google sends it."""
    if isinstance(fields.get("code"), int):
        return _code(fields) or error_code(fields)
    return error_code(fields)


GOOGLE_ERRORS = ErrorWording(
    fields=error_fields,
    code=google_code,
    retryable_codes=OPENAI_ERRORS.retryable_codes | {status.lower() for status in RETRYABLE_STATUSES},
)


def retry_delay(fields: Mapping[str, Any]) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"retryDelay": "30s"``), if any."""
    for detail in fields.get("details") or []:
        if isinstance(detail, Mapping) and detail.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match[1])
    return None


def status_error(status: int, document: Any, headers: Mapping[str, str], backend: str) -> UpstreamError:
    """The relay error for a non-200 answer received before the stream started.

    401 never reaches here: the caller renews its token and retries first.
    """
    fields = error_fields(document)
    return relay_status_error(
        backend,
        status,
        headers,
        message=client_message(str(fields.get("message") or "")),
        code=_code(fields),
        retry_after=retry_delay(fields),
        not_found_hint="check its project, location and model",
    )


def stream_error(fields: Mapping[str, Any]) -> UpstreamError:
    """An error event inside an otherwise healthy stream."""
    status = str(fields.get("status") or "")
    return failed_mid_stream(
        str(fields.get("message") or "") or "unknown error",
        code=_code(fields) or UPSTREAM_ERROR,
        retryable=status in RETRYABLE_STATUSES,
        retry_after=retry_delay(fields),
    )


def _code(fields: Mapping[str, Any]) -> str | None:
    status = fields.get("status")
    return status.lower() if isinstance(status, str) and status else None
