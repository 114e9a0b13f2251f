"""The terminal-event guarantee: every client stream ends in exactly one terminal event.

A guarded stream ends with exactly one terminal event: the adapter's
:class:`Finish`, or a :class:`StreamError` that replaces an exception, a
premature end, or anything after a terminal event. The upstream is closed in
``finally`` on completion, on error and when the client goes away.

This is also where an upstream's error text enters the canonical stream, so
it is scrubbed here (:mod:`shared.redaction`), once for every dialect; the
relay's own messages are left as written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

from ..errors import RelayError
from ..events import Finish, StreamError, StreamEvent
from ..providers.contract import UpstreamStream
from ..redaction import scrub
from .cancellation import close_shielded

logger = logging.getLogger(__name__)


async def guarded_events(stream: UpstreamStream, backend: str) -> AsyncIterator[StreamEvent]:
    """The adapter's events with the one-terminal-event contract enforced."""
    try:
        async for event in stream.events:
            if isinstance(event, StreamError):
                yield replace(event, message=scrub(event.message))
                return
            yield event
            if isinstance(event, Finish):
                return
        yield StreamError("upstream_truncated", "the upstream stream ended without finishing", retryable=True)
    except RelayError as exc:
        yield StreamError(exc.code, scrub(exc.message), retryable=exc.retryable, retry_after=exc.retry_after)
    except Exception:
        logger.exception("backend %s: unexpected failure while streaming", backend)
        yield StreamError("internal_error", "the relay failed while streaming; please retry", retryable=True)
    finally:
        await close_shielded(stream.aclose())
