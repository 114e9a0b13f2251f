"""The ways any upstream fails, worded once for every provider.

Whatever the protocol, an upstream can be unreachable, slow to answer,
cut off mid-stream, or fail with a message of its own. Each provider maps
its SDK's exceptions onto these builders, so a client reads the same
sentence and code whichever backend served it.
"""

from __future__ import annotations

import re

from ...errors import (
    UPSTREAM_AUTH_FAILED,
    UPSTREAM_DISCONNECTED,
    UPSTREAM_PROTOCOL_ERROR,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ...redaction import MAX_LENGTH

_SDK_PREFIX = re.compile(r"^Error code: \d+ - ")


def client_message(message: str) -> str:
    """An upstream's own message fit to pass on: without the SDK's prefix, and bounded.

    It is not scrubbed here: the relay scrubs upstream text once, where it
    enters the stream or the refusal of an open.
    """
    return _SDK_PREFIX.sub("", message or "")[:MAX_LENGTH]


def timed_out(backend: str) -> UpstreamTimeout:
    """The upstream accepted no connection, or sent no answer, in time."""
    return UpstreamTimeout(f"backend {backend} did not answer in time")


def unreachable(backend: str) -> UpstreamUnavailable:
    """No connection could be made."""
    return UpstreamUnavailable(f"backend {backend} could not be reached")


def failed(backend: str, reason: str, retry_after: float | None = None) -> UpstreamUnavailable:
    """The upstream answered with its own failure (a 5xx, or a provider code standing for one)."""
    return UpstreamUnavailable(f"backend {backend} failed ({reason})", retryable=True, retry_after=retry_after)


def credentials_refused(backend: str) -> UpstreamUnavailable:
    """The relay's own credentials were refused: its configuration, not the client, is at fault."""
    return UpstreamUnavailable(
        f"backend {backend} refused the relay's credentials", code=UPSTREAM_AUTH_FAILED, retryable=True
    )


def lost_mid_stream(backend: str) -> UpstreamUnavailable:
    """The connection broke after the stream had started."""
    return UpstreamUnavailable(f"the connection to backend {backend} was lost mid-stream", code=UPSTREAM_DISCONNECTED)


def not_a_json_object() -> UpstreamUnavailable:
    """An event whose data is not the JSON object the protocol promises."""
    return UpstreamUnavailable("the upstream sent an event that is not a JSON object", code=UPSTREAM_PROTOCOL_ERROR)


def failed_mid_stream(
    message: str,
    *,
    code: str,
    retryable: bool,
    kind: type[UpstreamError] = UpstreamError,
    retry_after: float | None = None,
) -> UpstreamError:
    """An error the upstream reported inside an open stream, with its own message."""
    text = client_message(message)
    return kind(f"the upstream failed mid-stream: {text}", code=code, retryable=retryable, retry_after=retry_after)
