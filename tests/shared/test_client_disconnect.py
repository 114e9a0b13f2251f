"""Racing work against the client's ``http.disconnect``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from shared.client_disconnect import ClientDisconnected, unless_disconnected

pytestmark = pytest.mark.anyio


def channel(*messages: Mapping[str, Any], then_wait: bool = True) -> Any:
    """An ASGI receive callable that replays ``messages``, then blocks (or fails)."""
    queue = list(messages)

    async def receive() -> Mapping[str, Any]:
        if queue:
            await asyncio.sleep(0.05)
            return queue.pop(0)
        if then_wait:
            await asyncio.Event().wait()
        raise RuntimeError("receive is not available")

    return receive


async def work(seconds: float, result: str = "done") -> str:
    await asyncio.sleep(seconds)
    return result


async def test_work_that_finishes_first_returns_its_result() -> None:
    assert await unless_disconnected(channel(), work(0.01)) == "done"


async def test_work_errors_propagate() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await unless_disconnected(channel(), fails())


async def test_a_disconnect_cancels_the_work() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(ClientDisconnected):
        await unless_disconnected(channel({"type": "http.request", "body": b""}, {"type": "http.disconnect"}), slow())
    assert cancelled.is_set()


async def test_a_receive_channel_that_fails_does_not_cancel_the_work() -> None:
    assert await unless_disconnected(channel(then_wait=False), work(0.1, "still done")) == "still done"
