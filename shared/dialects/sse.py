"""Server-Sent Events framing, the only place that writes ``data:`` lines.

JSON is written compactly with ``ensure_ascii`` off, so Japanese text and
emoji travel as UTF-8 rather than six-byte escapes.
"""

from __future__ import annotations

import json
from typing import Any

# One encoder for every frame: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# A str as a JSON string literal, exactly as ``dumps`` writes it (UTF-8 kept, not escaped).
json_string = json.encoder.encode_basestring

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"
HEARTBEAT = b": keep-alive\n\n"


def dumps(document: Any) -> str:
    """Compact UTF-8 JSON."""
    return _ENCODER.encode(document)


def data_frame(document: Any) -> bytes:
    """One unnamed event carrying JSON."""
    return f"data: {dumps(document)}\n\n".encode()


def named_frame(event: str, document: Any) -> bytes:
    """One named event (``event:`` line) carrying JSON."""
    return f"event: {event}\ndata: {dumps(document)}\n\n".encode()


def raw_data_frame(text: str) -> bytes:
    """One unnamed event with literal data, such as OpenAI's ``[DONE]``."""
    return f"data: {text}\n\n".encode()
