"""The relay wires one backlog from the adapter's reader to the writer: what is read and not yet passed on.

The adapter here delivers its events in groups, one network read each, and
says (``ready``) when its next event is already decoded, as ``ChunkEvents``
does; an adapter without ``ready`` is read one event per ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.config import parse_config
from shared.events import Finish, StreamEvent, TextDelta
from shared.providers.contract import UpstreamStream
from shared.relay import Relay

pytestmark = pytest.mark.anyio


@dataclass
class GroupedEvents:
    """Events in reads of ``group`` events; ``pulled`` counts the events taken."""

    events: list[StreamEvent]
    group: int
    pulled: int = 0
    _left: int = field(default=0)

    def ready(self) -> bool:
        return self._left > 0

    def __aiter__(self) -> GroupedEvents:
        return self

    async def __anext__(self) -> StreamEvent:
        if not self.events:
            raise StopAsyncIteration
        if not self._left:
            await asyncio.sleep(0)  # the network read
            self._left = self.group
        self._left -= 1
        self.pulled += 1
        return self.events.pop(0)


async def plain(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        await asyncio.sleep(0)
        yield event


@dataclass
class Adapter:
    events: Any

    async def open(self, request: ChatRequest) -> UpstreamStream:
        return UpstreamStream(self.events)

    async def aclose(self) -> None:
        pass


def relay_over(events: Any) -> Relay:
    document: dict[str, Any] = {
        "backends": [
            {"name": "a", "provider": "azure_openai", "endpoint": "https://x.openai.azure.com", "deployment": "a"}
        ],
        "models": {"gpt": ["a"]},
    }
    return Relay(parse_config(document), {"a": Adapter(events)})


def chat() -> ChatRequest:
    return ChatRequest.model_validate({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]})


def script() -> list[StreamEvent]:
    return [TextDelta("a"), TextDelta("b"), TextDelta("c"), TextDelta("d"), Finish("stop")]


async def test_the_opened_stream_shows_what_one_read_delivered_behind_the_current_event() -> None:
    upstream = GroupedEvents(script(), group=3)
    opened = await relay_over(upstream).open(chat())
    assert await anext(opened.events) == TextDelta("a")
    assert (len(opened.backlog), upstream.pulled) == (2, 3)  # b and c held; d is the next read's
    assert [event async for event in opened.events] == [TextDelta("b"), TextDelta("c"), TextDelta("d"), Finish("stop")]


async def test_an_adapter_that_cannot_tell_is_read_one_event_per_ask() -> None:
    opened = await relay_over(plain(script())).open(chat())
    assert await anext(opened.events) == TextDelta("a")
    assert len(opened.backlog) == 0
    assert [event async for event in opened.events] == script()[1:]
