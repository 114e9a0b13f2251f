"""Reporting how a committed stream ended to the router, exactly once, whatever ends it."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from ..events import Finish, StreamError, StreamEvent
from ..routing import outcome_of_end
from ..routing.dispatch import Dispatch
from ..routing.outcome import NEUTRAL
from .cancellation import close_shielded


async def reported_events(
    dispatch: Dispatch, first: StreamEvent, rest: AsyncGenerator[StreamEvent, None]
) -> AsyncGenerator[StreamEvent, None]:
    """``first``, then ``rest``, unchanged; the terminal event's outcome goes to the router.

    ``first`` was read to commit the request to the backend, so it is put back
    here rather than in a layer of its own. A stream that stops without a
    terminal event (the client left) ends the dispatch neutral, and closing
    this closes ``rest``.
    """
    try:
        if isinstance(first, Finish | StreamError):
            dispatch.end(outcome_of_end(first))
        yield first
        async for event in rest:
            if isinstance(event, Finish | StreamError):
                dispatch.end(outcome_of_end(event))
            yield event
    finally:
        dispatch.end(NEUTRAL)
        await close_shielded(rest.aclose())
