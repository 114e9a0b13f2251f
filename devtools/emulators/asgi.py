"""Raw ASGI plumbing the emulators share: bodies, JSON replies, paced playback.

The emulators speak raw ASGI rather than a framework so that they control
every byte on the wire: when each frame is flushed, whether a frame is cut in
the middle of a UTF-8 character, and whether the connection ends cleanly or is
dropped mid-body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from .recorder import Recorder, RequestRecord
from .scenario import Scenario, ScenarioBook, ScenarioError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ADMIN_PREFIX = "/_emulator"


class AbruptClose(Exception):
    """Raised inside an emulator to drop the connection without ending the body.

    uvicorn answers an exception raised after the response started by closing
    the socket, which is exactly what a crashed upstream looks like.
    """


def header(scope: Scope, name: str) -> str | None:
    """One request header, decoded, or None."""
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


def query(scope: Scope) -> dict[str, str]:
    """The query string as a flat dict (last value wins)."""
    parsed = parse_qs(scope.get("query_string", b"").decode())
    return {key: values[-1] for key, values in parsed.items()}


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def read_json(receive: Receive) -> Any:
    """The request body parsed as JSON (None when empty or not JSON)."""
    raw = await read_body(receive)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """Send a complete, non-streamed response."""
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, document: Any, headers: Sequence[tuple[str, str]] = ()) -> None:
    """Send a complete JSON response."""
    body = json.dumps(document, ensure_ascii=False).encode()
    await send_bytes(send, status, body, headers=headers)


def rate_limit_headers(scenario: Scenario) -> list[tuple[str, str]]:
    """The Retry-After and x-ratelimit-* headers a scenario asks for."""
    pairs: list[tuple[str, str | float | int | None]] = [
        ("retry-after", _seconds(scenario.retry_after)),
        ("retry-after-ms", scenario.retry_after_ms),
        ("x-ratelimit-remaining-requests", scenario.ratelimit_remaining_requests),
        ("x-ratelimit-remaining-tokens", scenario.ratelimit_remaining_tokens),
        ("x-ratelimit-reset-requests", scenario.ratelimit_reset_requests),
        ("x-ratelimit-reset-tokens", scenario.ratelimit_reset_tokens),
    ]
    return [(name, str(value)) for name, value in pairs if value is not None]


def _seconds(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


async def play(
    send: Send,
    receive: Receive,
    *,
    scenario: Scenario,
    record: RequestRecord,
    frames: Sequence[bytes],
    error_frames: Sequence[bytes] = (),
    content_type: str = "text/event-stream",
    headers: Sequence[tuple[str, str]] = (),
    malformed_frames: Sequence[bytes] = (),
) -> None:
    """Stream ``frames`` with the scenario's pacing and faults, recording the outcome.

    ``error_after``, ``close_after`` and ``stall_after`` count frames of
    ``frames``: after that many have been sent the emulator sends
    ``error_frames`` and ends, drops the connection, or goes silent until the
    client leaves. ``malformed_after`` sends ``malformed_frames`` at that point
    and carries on. ``before_headers`` strikes before the status line, which
    ``headers_delay_ms`` delays.
    """
    disconnected = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(receive, disconnected, record))
    raw_headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-cache")]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers]
    try:
        if scenario.before_headers is not None:
            await _fail_before_headers(send, scenario.before_headers, record, disconnected)
            return
        if scenario.headers_delay_ms and await _wait_or_disconnect(scenario.headers_delay_ms / 1000, disconnected):
            return
        await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
        await _play_frames(send, scenario, record, frames, error_frames, disconnected, malformed_frames)
    finally:
        watcher.cancel()


async def _fail_before_headers(send: Send, fault: str, record: RequestRecord, disconnected: asyncio.Event) -> None:
    """Drop the connection without a status line, or hold it open in silence until the client leaves."""
    if fault == "stall":
        record.finish("stalled")
        await disconnected.wait()
        return
    record.finish("closed")
    abort_connection(send)


def abort_connection(send: Send) -> None:
    """Close the socket under a response that has not started.

    An exception here would make uvicorn answer 500, which is an answer; a
    dead upstream gives none. uvicorn's ``send`` is a method of the
    connection's request cycle, which holds the transport.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise AbruptClose("cannot reach the transport to close it unanswered")
    transport.abort()


async def _play_frames(
    send: Send,
    scenario: Scenario,
    record: RequestRecord,
    frames: Sequence[bytes],
    error_frames: Sequence[bytes],
    disconnected: asyncio.Event,
    malformed_frames: Sequence[bytes] = (),
) -> None:
    for index, frame in enumerate(frames):
        pause = scenario.first_delay_ms if index == 0 else scenario.delay_ms
        if pause and await _wait_or_disconnect(pause / 1000, disconnected):
            return
        if disconnected.is_set():
            return
        if index == scenario.close_after:
            record.finish("closed")
            raise AbruptClose(f"scripted close after {index} frames")
        if index == scenario.stall_after:
            record.finish("stalled")
            await disconnected.wait()
            return
        if index == scenario.error_after:
            await _send_frame_list(send, error_frames, scenario.byte_split)
            await send({"type": "http.response.body", "body": b""})
            record.finish("error_frame")
            return
        if index == scenario.malformed_after:
            await _send_frame_list(send, malformed_frames, scenario.byte_split)
        await _send_frame(send, frame, scenario.byte_split)
        record.frames_sent += 1
    await send({"type": "http.response.body", "body": b""})
    record.finish("completed")


async def _send_frame_list(send: Send, frames: Sequence[bytes], byte_split: int | None) -> None:
    for frame in frames:
        await _send_frame(send, frame, byte_split)


async def _send_frame(send: Send, frame: bytes, byte_split: int | None) -> None:
    """Send one frame, optionally as several writes cut at arbitrary bytes."""
    if not byte_split or byte_split >= len(frame):
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        return
    for start in range(0, len(frame), byte_split):
        if start:
            # A tiny pause makes each piece its own TCP segment, so readers really
            # see a character cut in half rather than a coalesced write.
            await asyncio.sleep(0.001)
        await send({"type": "http.response.body", "body": frame[start : start + byte_split], "more_body": True})


async def _wait_or_disconnect(seconds: float, disconnected: asyncio.Event) -> bool:
    """Sleep, waking early if the client leaves; True when it left."""
    try:
        await asyncio.wait_for(disconnected.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event, record: RequestRecord) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if record.finished_at is None or record.outcome == "stalled":
                record.mark_disconnected()
            disconnected.set()
            return


async def handle_admin(scope: Scope, receive: Receive, send: Send, book: ScenarioBook, recorder: Recorder) -> None:
    """The control plane under ``/_emulator``: scenarios in, records out."""
    path = scope["path"][len(ADMIN_PREFIX) :]
    method = scope["method"]
    if path == "/scenarios" and method == "POST":
        document = await read_json(receive) or {}
        try:
            book.set(str(document.get("key", "*")), document.get("scenario") or {})
        except (ScenarioError, TypeError) as exc:
            await send_json(send, 400, {"error": str(exc)})
            return
        await send_json(send, 200, {"ok": True})
    elif path == "/scenarios" and method == "DELETE":
        book.clear()
        await send_json(send, 200, {"ok": True})
    elif path == "/requests" and method == "GET":
        await send_json(send, 200, recorder.as_dict())
    elif path == "/requests" and method == "DELETE":
        recorder.clear()
        await send_json(send, 200, {"ok": True})
    else:
        await send_json(send, 404, {"error": f"no admin route {method} {path}"})
