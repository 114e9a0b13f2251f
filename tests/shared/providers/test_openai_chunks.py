"""Chat-completion SSE bodies to canonical events, without sockets: the reader both OpenAI-protocol adapters share."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx2
import pytest

from shared.errors import UpstreamError, UpstreamUnavailable
from shared.events import Finish, ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage
from shared.providers.openai_compatible import ChunkEvents, chunk_to_events
from shared.providers.openai_errors import OPENAI_ERRORS, ErrorWording
from shared.providers.vertex.google_errors import GOOGLE_ERRORS

pytestmark = pytest.mark.anyio


class Body(httpx2.AsyncByteStream):
    """A response body delivered in the given pieces, then optionally a transport failure."""

    def __init__(self, *pieces: bytes, fail: Exception | None = None) -> None:
        self.pieces = pieces
        self.fail = fail
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True


def frame(document: Any) -> bytes:
    return b"data: " + json.dumps(document, ensure_ascii=False).encode() + b"\n\n"


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
    return frame({"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra})


DONE = b"data: [DONE]\n\n"


def _body_and_close(body: Body) -> tuple[AsyncIterator[bytes], Callable[[], Awaitable[None]]]:
    """What ChunkEvents reads: an SDK response's bytes and its close, as the SDK path hands them over."""
    response = httpx2.Response(200, stream=body)
    return response.aiter_bytes(), response.aclose


async def read(body: Body, wording: ErrorWording = OPENAI_ERRORS) -> tuple[list[StreamEvent], Exception | None]:
    events = ChunkEvents(*_body_and_close(body), "b", wording)
    seen: list[StreamEvent] = []
    try:
        async for event in events:
            seen.append(event)
    except (UpstreamError, UpstreamUnavailable) as exc:
        return seen, exc
    finally:
        await events.aclose()
    return seen, None


async def test_deltas_then_usage_then_the_held_finish() -> None:
    usage = frame({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    body = Body(
        chunk({"role": "assistant", "content": ""}) + chunk({"content": "日本"}), chunk({}, "stop"), usage, DONE
    )
    events, error = await read(body)
    assert error is None
    assert events == [TextDelta("日本"), Usage(3, 2), Finish("stop")]
    assert body.closed


async def test_multibyte_text_cut_between_reads() -> None:
    raw = chunk({"content": "🎌語"}, "stop") + DONE
    events, _ = await read(Body(*(raw[index : index + 1] for index in range(len(raw)))))
    assert events == [TextDelta("🎌語"), Finish("stop")]


async def test_everything_after_done_is_ignored() -> None:
    events, error = await read(Body(chunk({"content": "a"}, "stop") + DONE + chunk({"content": "late"}) + b"junk"))
    assert (events, error) == ([TextDelta("a"), Finish("stop")], None)


@pytest.mark.parametrize(
    ("error", "code", "retryable", "message", "wording"),
    [
        (
            {"code": "server_error", "message": "Sorry about that!"},
            "server_error",
            True,
            "Sorry about that!",
            OPENAI_ERRORS,
        ),
        (
            {"code": "content_filter", "message": "at https://x.test/y"},
            "content_filter",
            False,
            "at https://x.test/y",
            OPENAI_ERRORS,
        ),
        ({"code": 500, "status": "INTERNAL", "message": "boom"}, "internal", True, "boom", GOOGLE_ERRORS),
        (
            {"type": "invalid_request_error"},
            "invalid_request_error",
            False,
            "An error occurred during streaming",
            OPENAI_ERRORS,
        ),
    ],
)
async def test_an_error_frame_ends_the_stream_after_the_text_before_it(
    error: dict[str, Any], code: str, retryable: bool, message: str, wording: ErrorWording
) -> None:
    body = Body(chunk({"content": "a"}) + frame({"error": error}) + chunk({"content": "b"}))
    events, failure = await read(body, wording)
    assert events == [TextDelta("a")]
    assert isinstance(failure, UpstreamError)
    assert (failure.code, failure.retryable) == (code, retryable)
    assert failure.message == f"the upstream failed mid-stream: {message}"


async def test_a_falsy_error_field_is_an_ordinary_chunk() -> None:
    events, error = await read(Body(chunk({"content": "a"}, "stop", error=None) + DONE))
    assert (events, error) == ([TextDelta("a"), Finish("stop")], None)


@pytest.mark.parametrize("data", [b"data: not json\n\n", b"data: [1, 2]\n\n"])
async def test_an_event_that_is_not_a_json_object_is_a_protocol_error(data: bytes) -> None:
    _, error = await read(Body(data))
    assert isinstance(error, UpstreamUnavailable) and error.code == "upstream_protocol_error"


@pytest.mark.parametrize("ending", [b"", DONE])
async def test_an_end_without_finish_reason_is_truncation(ending: bytes) -> None:
    events, error = await read(Body(chunk({"content": "a"}) + ending))
    assert events == [TextDelta("a")]
    assert isinstance(error, UpstreamUnavailable) and error.code == "upstream_truncated"


async def test_a_finish_without_done_is_complete() -> None:
    events, error = await read(Body(chunk({"content": "a"}, "length")))
    assert (events, error) == ([TextDelta("a"), Finish("length")], None)


async def test_a_lost_connection_is_upstream_disconnected() -> None:
    events, error = await read(Body(chunk({"content": "a"}), fail=httpx2.ReadError("reset")))
    assert events == [TextDelta("a")]
    assert isinstance(error, UpstreamUnavailable) and error.code == "upstream_disconnected" and error.retryable


async def test_closing_before_reading_releases_the_response() -> None:
    body = Body(chunk({"content": "a"}))
    events = ChunkEvents(*_body_and_close(body), "b")
    await events.aclose()
    assert body.closed


def test_chunk_translation_table() -> None:
    call = {"index": 1, "id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a"'}}
    chunk = {
        "choices": [
            {"index": 0, "delta": {"reasoning_content": "hmm", "content": "x", "tool_calls": [call]}},
            {"index": 1, "delta": {"content": "other choice"}, "finish_reason": "stop"},
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": None},
    }
    assert chunk_to_events(chunk) == [
        Usage(1, 0),
        ReasoningDelta("hmm"),
        TextDelta("x"),
        ToolCallDelta(index=1, id="c1", name="f", arguments='{"a"'),
    ]
    fragment = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]}}]}
    assert chunk_to_events(fragment) == [ToolCallDelta(index=1, arguments="}")]
    assert chunk_to_events({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0}]}}]}) == [
        ToolCallDelta(index=0)
    ]
    assert chunk_to_events({"choices": [], "prompt_filter_results": []}) == []
