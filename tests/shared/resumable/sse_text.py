"""Reading SSE as the tests need it: events with their ids, and the text a dialect carried."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.builders import RELAY_TEST_KEY

RESUMABLE = {"x-relay-resumable": "1"}
OTHER_KEY = "another-relay-key-4242"


@dataclass(frozen=True)
class Event:
    """One SSE event: its id (None without one), name and data."""

    id: int | None
    name: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def events_of(body: str) -> list[Event]:
    """Every event of an SSE body, comments left out."""
    found = []
    for block in body.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "data" in fields:
            number = fields.get("id")
            found.append(Event(int(number) if number is not None else None, fields.get("event"), fields["data"]))
    return found


def chat_text(events: list[Event]) -> str:
    """The content the chat dialect's chunks carried, joined."""
    text = ""
    for event in events:
        if event.data == "[DONE]":
            continue
        for choice in event.json().get("choices", []):
            text += choice["delta"].get("content") or ""
    return text


def auth(key: str = RELAY_TEST_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def read_events(response: httpx.Response, count: int) -> tuple[str, list[Event]]:
    """Read a streamed response until ``count`` events have arrived; the raw text and those events."""
    text = ""
    for piece in response.iter_text():
        text += piece
        complete = text[: text.rfind("\n\n") + 2] if "\n\n" in text else ""
        if len(events_of(complete)) >= count:
            return complete, events_of(complete)[:count]
    raise AssertionError(f"the stream ended before {count} events: {text!r}")
