"""The resume and cancel operations of resumable streams (README, Resumable streams)."""

from __future__ import annotations

from typing import Any

from .schemas import Schema, ref

SSE = "text/event-stream"
RESUME_ERRORS = {
    400: "after or Last-Event-ID is not a whole number.",
    401: "No, malformed, expired or wrong credential.",
    404: "No such stream, it expired, or it belongs to another identity.",
    503: "The stream store or the signing keys cannot be reached.",
}
STREAM = {
    "name": "stream",
    "in": "path",
    "required": True,
    "description": "The x-relay-stream-id of a response opened with x-relay-resumable: 1.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"},
}


def paths() -> dict[str, dict[str, Any]]:
    return {"/v1/streams/{stream}": {"get": _resume(), "delete": _cancel()}}


def _errors(*statuses: int) -> dict[str, Schema]:
    return {
        str(status): {"description": RESUME_ERRORS[status], "content": {"application/json": {"schema": ref("Error")}}}
        for status in statuses
    }


def _resume() -> Schema:
    after = {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}
    last = {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer", "minimum": 0}}
    stream = {
        "type": "object",
        "description": "The original stream's events after the given id, each with `id: n`, in its own dialect; "
        "then live until its one terminal event (stream_lost if the generating instance died).",
        "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string"}},
        "required": ["data"],
    }
    return {
        "operationId": "resumeStream",
        "summary": "Resume a stream after its last event received, on any instance",
        "parameters": [STREAM, after, last],
        "responses": {
            "200": {"description": "The rest of the stream.", "content": {SSE: {"schema": stream}}},
            "204": {"description": "Nothing left after that id: the stream ended (EventSource stops reconnecting)."},
            **_errors(400, 401, 404, 503),
        },
    }


def _cancel() -> Schema:
    return {
        "operationId": "cancelStream",
        "summary": "Stop generating a resumable stream, wherever it runs",
        "parameters": [STREAM],
        "responses": {
            "204": {"description": "Generation stops; readers get stream_cancelled."},
            **_errors(401, 404, 503),
        },
    }
