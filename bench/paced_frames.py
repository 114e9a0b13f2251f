"""Each provider path's streamed reply, encoded once and cut into the steps a paced upstream writes.

The bench upstream (:mod:`.paced_upstream`) must cost next to nothing per
chunk, so nothing is encoded while streams run: the first request for a
(wire, chunk count) builds the whole reply with the faithful emulators' own
frame builders, wraps it in HTTP/1.1 chunked framing, and groups it into
*steps*. Step 0 is the status line, the headers, everything before the first
content frame and that frame; each later step is one content frame; the last
one also carries whatever follows the last content frame (finish, usage,
``[DONE]``, Bedrock's ``messageStop``/``metadata``). Paced at ``delay_ms`` a
stream of ``n`` chunks therefore takes ``(n - 1) x delay_ms`` plus the phase
of the shared tick, never more than the ideal ``n x delay_ms``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from devtools.emulators import azure_openai_frames
from devtools.emulators.bedrock_events import stream_events
from devtools.emulators.eventstream import event_frame
from devtools.emulators.scenario import Scenario
from devtools.emulators.vertex_frames import ResponseMeta, wire_frames

WIRES = ("azure", "bedrock", "vertex-openai", "vertex-native")
VERTEX_MODEL = "gemini-2.0-flash-001"

# The bytes that mark a frame as one content delta, per wire (the load client looks for the same ones).
CONTENT_MARKERS = {
    "azure": b'}},"delta":{"content":"',
    "bedrock": b'"delta":{"text":"',
    "vertex-openai": b'"delta":{"content":"',
    "vertex-native": b'"parts":[{"text":"',
}
_CONTENT_TYPES = {
    "azure": "text/event-stream",
    "bedrock": "application/vnd.amazon.eventstream",
    "vertex-openai": "text/event-stream",
    "vertex-native": "text/event-stream",
}


@dataclass(frozen=True)
class Reply:
    """One reply as the writes a paced upstream makes: ``steps[0]`` at once, one more per tick."""

    steps: tuple[bytes, ...]

    @functools.cached_property
    def whole(self) -> bytes:
        """Every step in one buffer, for an unpaced (``delay_ms`` 0) stream: one write."""
        return b"".join(self.steps)


def frames_for(wire: str, chunks: int | None, include_usage: bool) -> list[bytes]:
    """The body frames the faithful emulator would send for a plain text reply of ``chunks`` deltas."""
    scenario = Scenario(chunks=chunks)
    if wire == "azure":
        return azure_openai_frames.stream_frames(azure_openai_frames.plan_reply(scenario, 40), include_usage)
    if wire == "bedrock":
        return [event_frame(kind, body) for kind, body in stream_events(scenario, 40, [])]
    if wire in ("vertex-openai", "vertex-native"):
        kind = "openai-stream" if wire == "vertex-openai" else "native-sse"
        return list(wire_frames(kind, scenario, ResponseMeta(model=VERTEX_MODEL), 40).frames)
    raise ValueError(f"unknown wire {wire!r}; known: {', '.join(WIRES)}")


def http_chunk(data: bytes) -> bytes:
    """``data`` as one HTTP/1.1 chunk (an empty ``data`` would end the body, so callers never pass one)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def response_head(wire: str) -> bytes:
    """Status line and headers of a streamed 200: chunked, kept alive, the wire's content type."""
    lines = [
        "HTTP/1.1 200 OK",
        f"content-type: {_CONTENT_TYPES[wire]}",
        "cache-control: no-cache",
        "transfer-encoding: chunked",
        "x-amzn-requestid: 00000000-0000-4000-8000-000000000000" if wire == "bedrock" else "x-request-id: bench",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def steps(head: bytes, frames: Sequence[bytes], marker: bytes) -> tuple[bytes, ...]:
    """Group ``frames`` into paced writes around the content frames (those holding ``marker``)."""
    content = [index for index, frame in enumerate(frames) if marker in frame]
    if not content:
        return (head + b"".join(map(http_chunk, frames)) + b"0\r\n\r\n",)
    first, last = content[0], content[-1]
    groups = [frames[: first + 1], *([frame] for frame in frames[first + 1 : last + 1])]
    groups[-1] = [*groups[-1], *frames[last + 1 :]]
    written = [b"".join(map(http_chunk, group)) for group in groups]
    written[0] = head + written[0]
    written[-1] += b"0\r\n\r\n"
    return tuple(written)


@functools.lru_cache(maxsize=64)
def reply(wire: str, chunks: int | None, include_usage: bool = False) -> Reply:
    """The reply for ``wire`` with ``chunks`` deltas, built on first use and shared by every stream after."""
    frames = frames_for(wire, chunks, include_usage)
    return Reply(steps(response_head(wire), frames, CONTENT_MARKERS[wire]))
