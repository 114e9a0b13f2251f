"""Answers without ``stream``: the whole canonical stream folded into one document.

Both OpenAI dialects build their non-streaming document from the same events
they would stream, so the two answers cannot disagree. What they share is how
a stream that fails is folded: a :class:`StreamError` becomes the matching
relay error, so the client gets an HTTP error status instead of half a
document, and a bug in a builder becomes a 500-free ``internal_error`` that
the logs name.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from ..errors import RelayError, UpstreamError
from ..events import StreamError, StreamEvent

logger = logging.getLogger(__name__)


async def fold(events: AsyncIterator[StreamEvent], add: Callable[[StreamEvent], object], what: str) -> None:
    """Feed every event to ``add``; raise the relay error a failed stream, or a failed builder, stands for."""
    try:
        async for event in events:
            if isinstance(event, StreamError):
                raise UpstreamError(
                    event.message, code=event.code, retryable=event.retryable, retry_after=event.retry_after
                )
            add(event)
    except RelayError:
        raise
    except Exception as exc:
        logger.exception("the relay failed while collecting a %s", what)
        raise RelayError(f"the relay failed while building the {what}; please retry", code="internal_error") from exc
