"""One policy for an upstream's HTTP error status, shared by every provider.

Which statuses fail over, which are the relay's own misconfiguration and which
are the client's fault is a relay decision, not a provider's; each adapter
only extracts the message, code and Retry-After from its own error body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ...errors import (
    UPSTREAM_NOT_FOUND,
    UPSTREAM_REJECTED,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from ...retry_after import retry_after_seconds
from .failures import credentials_refused, failed

logger = logging.getLogger(__name__)


def status_error(
    backend: str,
    status: int,
    headers: Mapping[str, str],
    *,
    message: str,
    code: str | None,
    retry_after: float | None = None,
    not_found_hint: str = "check its settings",
    reason: str | None = None,
) -> UpstreamError:
    """The relay error for an upstream that answered ``status`` before streaming.

    ``message`` must already be fit for the client; ``retry_after`` is the
    body's own hint, used when no header gives one; ``reason`` names the
    failure in messages and logs (default ``HTTP <status>``).
    """
    reason = reason or f"HTTP {status}"
    header_retry = retry_after_seconds(headers)
    if status == 429:
        wait = header_retry if header_retry is not None else retry_after
        return UpstreamRateLimited(f"backend {backend} is rate limited", retry_after=wait)
    if status in (401, 403):
        logger.error("backend %s refused the relay's credentials (%s)", backend, reason)
        return credentials_refused(backend)
    if status == 404:
        logger.error("backend %s answered %s: %s", backend, reason, not_found_hint)
        return UpstreamUnavailable(f"backend {backend} was not found upstream", code=UPSTREAM_NOT_FOUND, retryable=True)
    if status == 408 or status >= 500:
        return failed(backend, reason, header_retry)
    return UpstreamRejected(message or f"backend {backend} rejected the request", code=code or UPSTREAM_REJECTED)
