"""What a finished response must look like, per dialect; each check returns the problems it found.

``/v1/chat/completions`` streams end with the finish chunk (a chunk whose
choice has a ``finish_reason``), the usage chunk when asked, then one
``data: [DONE]``; or with one ``data: {"error": ...}`` frame and nothing
after it. ``/chat`` streams end with exactly one ``done`` or ``error`` event.
Responses streams are named events whose data repeats the name as ``type``
and counts ``sequence_number`` from 0; they open with ``response.created``
and end with exactly one of :data:`RESPONSES_TERMINALS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Each Responses terminal event and the status its ``response`` must carry.
RESPONSES_TERMINALS = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}


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


def responses_stream_problems(body: bytes) -> list[str]:
    """Why a Responses stream is misnumbered, misnamed or not ended by exactly one terminal event."""
    events = sse_events(body)
    if not events:
        return ["the stream has no events"]
    documents = [_json(event.data) for event in events]
    for index, (event, document) in enumerate(zip(events, documents, strict=True)):
        if not isinstance(document, dict) or _unparseable(document):
            return [f"event {index} ({event.name}) is not a JSON object: {event.data[:80]!r}"]
        if event.name is None or document.get("type") != event.name:
            return [f"event {index} is named {event.name!r} but its type is {document.get('type')!r}"]
        if document.get("sequence_number") != index:
            return [f"event {index} ({event.name}) has sequence_number {document.get('sequence_number')!r}"]
    if events[0].name != "response.created":
        return [f"the stream must open with response.created, not {events[0].name!r}"]
    terminal = [index for index, event in enumerate(events) if event.name in RESPONSES_TERMINALS]
    if terminal != [len(events) - 1]:
        names = [event.name for event in events[-3:]]
        return [f"the stream must end with exactly one terminal event (terminal at {terminal}, last {names})"]
    status = _status(documents[-1].get("response"))
    if status != RESPONSES_TERMINALS[str(events[-1].name)]:
        return [f"{events[-1].name} carries a response with status {status!r}"]
    return []


def response_document_problems(body: bytes) -> list[str]:
    """Why a non-streaming Responses 200 is not a finished ``response`` object."""
    document = _json(body.decode("utf-8", errors="replace"))
    if not isinstance(document, dict) or document.get("object") != "response":
        return [f"a 200 non-streaming answer is not a response: {body[:120]!r}"]
    if document.get("status") not in ("completed", "incomplete") or not isinstance(document.get("output"), list):
        return [f"a 200 response must be completed or incomplete with an output list: {body[:120]!r}"]
    return []


def _status(response: Any) -> Any:
    return response.get("status") if isinstance(response, dict) else None


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
