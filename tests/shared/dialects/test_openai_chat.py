"""The OpenAI dialect encoder, event by event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from shared.dialects.openai_chat import ChunkEncoder, collect_completion
from shared.errors import UpstreamError
from shared.events import Finish, ReasoningDelta, StreamError, StreamEvent, TextDelta, ToolCallDelta, Usage


def frames(raw: bytes) -> list[str]:
    return [block[len("data: ") :] for block in raw.decode().split("\n\n") if block]


def test_text_then_finish_then_usage_then_done() -> None:
    encoder = ChunkEncoder(model="m", include_usage=True)
    out = b"".join(
        encoder.encode(event) for event in [TextDelta("こん"), Usage(3, 2), TextDelta("にちは"), Finish("stop")]
    )
    parsed = frames(out)
    assert parsed[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in parsed[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "こん"}
    assert chunks[1]["choices"][0]["delta"] == {"content": "にちは"}
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["total_tokens"] == 5
    assert {chunk["id"] for chunk in chunks} == {encoder.id}
    assert "こん".encode() in out  # raw UTF-8, not \\u escapes


@pytest.mark.parametrize("include_usage", [False, True])
def test_text_chunks_are_compact_json_in_a_fixed_key_order(include_usage: bool) -> None:
    encoder = ChunkEncoder(model='m "quoted" 日本', include_usage=include_usage, id="chatcmpl-x", created=7)
    encoder.encode(TextDelta("first"))
    text = 'quote " backslash \\ newline \n control \x01 line sep \u2028 emoji 👩‍💻'
    envelope = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 7, "model": 'm "quoted" 日本'}
    choice = {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}
    document = {**envelope, "choices": [choice], **({"usage": None} if include_usage else {})}
    expected = "data: " + json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n\n"
    assert encoder.encode(TextDelta(text)) == expected.encode()


def test_usage_is_held_back_when_not_requested() -> None:
    encoder = ChunkEncoder(model="m")
    assert encoder.encode(Usage(1, 1)) == b""
    parsed = frames(encoder.encode(Finish("length")))
    assert len(parsed) == 2 and "usage" not in json.loads(parsed[0])


def test_tool_call_and_reasoning_deltas() -> None:
    encoder = ChunkEncoder(model="m")
    first = json.loads(frames(encoder.encode(ReasoningDelta("hmm")))[0])["choices"][0]["delta"]
    call = json.loads(frames(encoder.encode(ToolCallDelta(0, "call_1", "f", '{"a"')))[0])["choices"][0]["delta"]
    more = json.loads(frames(encoder.encode(ToolCallDelta(0, arguments=": 1}")))[0])["choices"][0]["delta"]
    assert first == {"role": "assistant", "reasoning_content": "hmm"}
    assert call["tool_calls"] == [
        {"index": 0, "id": "call_1", "type": "function", "function": {"arguments": '{"a"', "name": "f"}}
    ]
    assert more["tool_calls"] == [{"index": 0, "function": {"arguments": ": 1}"}}]


def test_error_event_is_one_terminal_frame() -> None:
    parsed = frames(ChunkEncoder(model="m").encode(StreamError("x", "boom", retryable=True, retry_after=2)))
    expected = (
        '{"error":{"message":"boom","type":"api_error","param":null,"code":"x","retryable":true,"retry_after":2}}'
    )
    assert parsed == [expected]


def test_usage_reported_before_an_error_comes_ahead_of_the_error_frame() -> None:
    encoder = ChunkEncoder(model="m", include_usage=True)
    out = b"".join(encoder.encode(event) for event in [TextDelta("a"), Usage(3, 1), StreamError("x", "boom")])
    parsed = [json.loads(frame) for frame in frames(out)]
    assert parsed[1]["choices"] == [] and parsed[1]["usage"]["total_tokens"] == 4
    assert parsed[2]["error"]["code"] == "x" and len(parsed) == 3


def test_no_usage_frame_before_an_error_unless_asked_for_and_reported() -> None:
    unasked = ChunkEncoder(model="m")
    unasked.encode(Usage(3, 1))
    assert len(frames(unasked.encode(StreamError("x", "boom")))) == 1
    unreported = ChunkEncoder(model="m", include_usage=True)
    assert len(frames(unreported.encode(StreamError("x", "boom")))) == 1


async def _events(*events: StreamEvent) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


@pytest.mark.anyio
async def test_collect_builds_one_completion() -> None:
    document = await collect_completion(
        _events(TextDelta("a"), ToolCallDelta(0, "c", "f", "{}"), Usage(1, 2), Finish("tool_calls")), "m"
    )
    choice = document["choices"][0]
    assert choice["message"]["content"] == "a"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}
    assert choice["finish_reason"] == "tool_calls" and document["usage"]["total_tokens"] == 3


@pytest.mark.anyio
async def test_collect_raises_on_error() -> None:
    with pytest.raises(UpstreamError, match="boom"):
        await collect_completion(_events(TextDelta("a"), StreamError("x", "boom")), "m")


def test_usage_carries_the_cached_and_reasoning_breakdowns() -> None:
    encoder = ChunkEncoder(model="m", include_usage=True)
    out = encoder.encode(Usage(10, 6, cached_tokens=4, reasoning_tokens=5, cache_write_tokens=3))
    usage = json.loads(frames(out + encoder.encode(Finish("stop")))[-2])["usage"]
    assert usage == {
        "prompt_tokens": 10,
        "completion_tokens": 6,
        "total_tokens": 16,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
