"""The fuzz oracle's stream checks: each must reject what a broken relay would send."""

from __future__ import annotations

import json
from typing import Any

from tests.fuzz.frames import (
    openai_stream_problems,
    response_document_problems,
    responses_stream_problems,
    sse_events,
    typed_stream_problems,
)

CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
FINISH = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
USAGE = b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n'
DONE = b"data: [DONE]\n\n"
ERROR = b'data: {"error":{"message":"upstream failed","code":"upstream_error"}}\n\n'
HEARTBEAT = b": keep-alive\n\n"


def test_complete_openai_streams_pass() -> None:
    assert openai_stream_problems(CHUNK + HEARTBEAT + FINISH + USAGE + DONE) == []
    assert openai_stream_problems(CHUNK + ERROR) == []


def test_openai_stream_without_terminal_frame_fails() -> None:
    assert openai_stream_problems(CHUNK)
    assert openai_stream_problems(CHUNK + FINISH)
    assert openai_stream_problems(b"")


def test_openai_stream_with_two_terminal_frames_fails() -> None:
    assert openai_stream_problems(CHUNK + FINISH + DONE + DONE)
    assert openai_stream_problems(CHUNK + ERROR + ERROR)
    assert openai_stream_problems(CHUNK + FINISH + ERROR)
    assert openai_stream_problems(CHUNK + ERROR + DONE)


def test_openai_stream_needs_one_finish_chunk_and_json_frames() -> None:
    assert openai_stream_problems(CHUNK + DONE)
    assert openai_stream_problems(FINISH + FINISH + DONE)
    assert openai_stream_problems(b"data: {not json\n\n" + FINISH + DONE)
    assert openai_stream_problems(FINISH + CHUNK + DONE)


def test_typed_streams_end_in_exactly_one_done_or_error() -> None:
    text = b'event: text_delta\ndata: {"content":"hi"}\n\n'
    done = b'event: done\ndata: {"finish_reason":"stop"}\n\n'
    error = b'event: error\ndata: {"code":"x","message":"m","retryable":false}\n\n'
    assert typed_stream_problems(text + done) == []
    assert typed_stream_problems(text + error) == []
    assert typed_stream_problems(text)
    assert typed_stream_problems(text + done + done)
    assert typed_stream_problems(done + text)
    assert typed_stream_problems(text + error + done)


def test_events_split_across_crlf_and_multiline_data() -> None:
    events = sse_events(b"event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\n\ndata: 3\n\n")
    assert [(event.name, event.data) for event in events] == [("a", "1\n2"), (None, "3")]


def responses_stream(*names: str, numbers: list[int] | None = None, status: str | None = None) -> bytes:
    """Named Responses events numbered from 0 (or by ``numbers``); lifecycle events carry a response."""
    frames = []
    for index, name in enumerate(names):
        data: dict[str, Any] = {"type": name, "sequence_number": index if numbers is None else numbers[index]}
        if name.startswith("response.") and name.count(".") == 1:
            data["response"] = {"status": status or name.removeprefix("response.").replace("created", "in_progress")}
        frames.append(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    return HEARTBEAT.join(frames)


OPENING = ("response.created", "response.in_progress", "response.output_text.delta")


def test_complete_responses_streams_pass() -> None:
    for terminal in ("response.completed", "response.incomplete", "response.failed"):
        assert responses_stream_problems(responses_stream(*OPENING, terminal)) == []
    assert responses_stream_problems(responses_stream("response.created", "response.failed")) == []


def test_responses_stream_without_or_with_two_terminal_events_fails() -> None:
    assert responses_stream_problems(responses_stream(*OPENING))
    assert responses_stream_problems(b"")
    assert responses_stream_problems(responses_stream(*OPENING, "response.completed", "response.completed"))
    assert responses_stream_problems(responses_stream(*OPENING, "response.failed", "response.completed"))
    assert responses_stream_problems(responses_stream("response.created", "response.completed", *OPENING[1:]))


def test_responses_stream_must_number_name_and_open_its_events() -> None:
    names = (*OPENING, "response.completed")
    assert responses_stream_problems(responses_stream(*names, numbers=[0, 2, 1, 3]))
    assert responses_stream_problems(responses_stream(*names, numbers=[1, 2, 3, 4]))
    assert responses_stream_problems(responses_stream(*OPENING[1:], "response.completed"))
    assert responses_stream_problems(responses_stream(*names).replace(b"event: response.output_text.delta", b""))
    assert responses_stream_problems(
        responses_stream(*names).replace(b'"type": "response.output_text.delta"', b'"type": "x"')
    )
    assert responses_stream_problems(b"event: response.created\ndata: {not json\n\n")
    assert responses_stream_problems(responses_stream(*names, status="failed"))


def test_non_streaming_response_must_be_finished() -> None:
    assert response_document_problems(b'{"object":"response","status":"completed","output":[]}') == []
    assert response_document_problems(b'{"object":"response","status":"incomplete","output":[]}') == []
    assert response_document_problems(b'{"object":"response","status":"in_progress","output":[]}')
    assert response_document_problems(b'{"object":"response","status":"failed","output":[]}')
    assert response_document_problems(b'{"object":"chat.completion","status":"completed","output":[]}')
    assert response_document_problems(b'{"object":"response","status":"completed"}')
    assert response_document_problems(b"[]")
