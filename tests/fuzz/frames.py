"""What a finished response must look like, per dialect; each check returns the problems it found.

``/v1/chat/completions`` streams end with the finish chunk (a chunk whose
choice has a ``finish_reason``), the usage chunk when asked, then one
``data: [DONE]``; or with one ``data: {"error": ...}`` frame and nothing
after it. ``/chat`` streams end with exactly one ``done`` or ``error`` event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    name: str | None
    data: str


def sse_events(body: bytes) -> list[Event]:
    """The events of an SSE body, comments (heartbeats) dropped."""
    events = []
    for block in body.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].removeprefix(" "))
        if data:
            events.append(Event(name, "\n".join(data)))
    return events


def openai_stream_problems(body: bytes) -> list[str]:
    """Why a ``/v1`` stream did not end in exactly one terminal frame; empty when it did."""
    events = sse_events(body)
    if not events:
        return ["the stream has no frames"]
    documents = [None if event.data == "[DONE]" else _json(event.data) for event in events]
    unparseable = [index for index, document in enumerate(documents) if _unparseable(document)]
    if unparseable:
        return [f"frames {unparseable} are not JSON"]
    errors = [index for index, document in enumerate(documents) if isinstance(document, dict) and "error" in document]
    done = [index for index, document in enumerate(documents) if document is None]
    finishes = [index for index, document in enumerate(documents) if _finish_reason(document) is not None]
    last = len(events) - 1
    if errors:
        if errors != [last] or done or finishes:
            return [f"an error frame must be the only terminal frame and the last (errors at {errors}, "
                    f"[DONE] at {done}, finish chunks at {finishes}, {len(events)} frames)"]  # fmt: skip
        return []
    if done != [last]:
        return [f"the stream must end with exactly one [DONE] (at {done}, {len(events)} frames)"]
    if len(finishes) != 1:
        return [f"the stream must have exactly one finish chunk before [DONE] (found {len(finishes)})"]
    if not all(_is_usage_chunk(document) for document in documents[finishes[0] + 1 : last]):
        return ["only the usage chunk may come between the finish chunk and [DONE]"]
    return []


def typed_stream_problems(body: bytes) -> list[str]:
    """Why a ``/chat`` stream did not end in exactly one ``done`` or ``error``; empty when it did."""
    events = sse_events(body)
    terminal = [index for index, event in enumerate(events) if event.name in ("done", "error")]
    if terminal != [len(events) - 1]:
        names = [event.name for event in events[-3:]]
        return [f"the stream must end with exactly one done or error event (terminal at {terminal}, last {names})"]
    return []


def error_document_problems(body: bytes) -> list[str]:
    """Why an error response is not OpenAI-style JSON with a message; empty when it is."""
    document = _json(body.decode("utf-8", errors="replace"))
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str) or not error["message"]:
        return [f"the error body is not OpenAI-style JSON: {body[:120]!r}"]
    return []


def completion_problems(body: bytes) -> list[str]:
    document = _json(body.decode("utf-8", errors="replace"))
    if not isinstance(document, dict) or document.get("object") != "chat.completion":
        return [f"a 200 non-streaming answer is not a chat.completion: {body[:120]!r}"]
    return []


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {"unparseable": text[:80]}


def _is_usage_chunk(document: Any) -> bool:
    return isinstance(document, dict) and document.get("choices") == [] and isinstance(document.get("usage"), dict)


def _unparseable(document: Any) -> bool:
    return isinstance(document, dict) and "unparseable" in document


def _finish_reason(document: Any) -> Any:
    if not isinstance(document, dict):
        return None
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    return choices[0].get("finish_reason")
