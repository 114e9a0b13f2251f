"""One policy for an upstream's HTTP error status, shared by every provider.

Which statuses fail over, which are the relay's own misconfiguration and which
are the client's fault is a relay decision, not a provider's; each adapter
only extracts the message, code and Retry-After from its own error body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ..errors import UpstreamError, UpstreamRateLimited, UpstreamRejected, UpstreamUnavailable
from ..retry_after import retry_after_seconds

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
) -> UpstreamError:
    """The relay error for an upstream that answered ``status`` before streaming.

    ``message`` must already be fit for the client; ``retry_after`` is the
    body's own hint, used when no header gives one.
    """
    header_retry = retry_after_seconds(headers)
    if status == 429:
        wait = header_retry if header_retry is not None else retry_after
        return UpstreamRateLimited(f"backend {backend} is rate limited", retry_after=wait)
    if status in (401, 403):
        logger.error("backend %s refused the relay's credentials (HTTP %s)", backend, status)
        return UpstreamUnavailable(
            f"backend {backend} refused the relay's credentials", code="upstream_auth_failed", retryable=True
        )
    if status == 404:
        logger.error("backend %s answered 404: %s", backend, not_found_hint)
        return UpstreamUnavailable(
            f"backend {backend} was not found upstream", code="upstream_not_found", retryable=True
        )
    if status == 408 or status >= 500:
        failed = f"backend {backend} failed (HTTP {status})"
        return UpstreamUnavailable(failed, retryable=True, retry_after=header_retry)
    return UpstreamRejected(message or f"backend {backend} rejected the request", code=code or "upstream_rejected")
