"""Noticing a client that leaves before its response has started.

Once a streaming response has started, the ASGI server notices a disconnect
and cancels the response, and the stream's ``finally`` blocks close the
upstream. Before that, while the relay is still opening upstreams (failing
over, or waiting for the first token), nobody is listening; so this module
races that work against the client's ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Receive = Callable[[], Awaitable[Mapping[str, Any]]]


class ClientDisconnected(Exception):
    """The client went away; there is nobody left to answer."""


async def unless_disconnected(receive: Receive, work: Coroutine[Any, Any, T]) -> T:
    """The result of ``work``, or ``ClientDisconnected`` (with ``work`` cancelled) if the client leaves first.

    ``receive`` is the request's ASGI receive channel, read only after the
    body has been consumed, when the next message can only be a disconnect.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(receive))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task not in done and watcher.exception() is not None:
            await asyncio.wait({task})  # a watcher that cannot watch must not cancel the work
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
        await asyncio.wait({task, watcher})
        if not watcher.cancelled():
            watcher.exception()  # retrieved, so asyncio does not report it
    if task.cancelled():
        raise ClientDisconnected
    return task.result()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
