"""What every provider emulator offers, so fixtures, ``make dev`` and the CLI treat them alike.

An emulator is a raw ASGI app scripted through its :class:`ScenarioBook`
(per key, or inline in a prompt) and remembering what it was sent in its
:class:`Recorder`. Whoever serves it on a port writes the base URL to ``url``,
so tests and the dev runner read one attribute whatever the provider.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .asgi import Receive, Scope, Send
from .recorder import Recorder
from .scenario import ScenarioBook


@runtime_checkable
class Emulator(Protocol):
    """A provider emulator: an ASGI app with a scenario book, a request log and the URL it is served at."""

    book: ScenarioBook
    recorder: Recorder
    url: str

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...
