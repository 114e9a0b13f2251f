"""The fuzz oracle's stream checks: each must reject what a broken relay would send."""

from __future__ import annotations

from tests.fuzz.frames import openai_stream_problems, sse_events, typed_stream_problems

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
