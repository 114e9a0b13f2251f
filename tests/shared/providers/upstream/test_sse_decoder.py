"""The SSE decoder both OpenAI-style and Gemini streams go through, fed bytes cut anywhere."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import pytest
from openai._streaming import SSEDecoder as OpenAISDKDecoder

from shared.providers.upstream.sse_decoder import ServerSentEvent, SSEDecoder


def feed_in_pieces(raw: bytes, size: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for start in range(0, len(raw), size) for event in decoder.feed(raw[start : start + size])]
    return events + decoder.close()


VERTEX_STREAM = (
    'data: {"candidates":[{"content":{"parts":[{"text":"日本"}]}}]}\r\n\r\n'
    'data: {"candidates":[{"content":{"parts":[{"text":"語🎌"}]},"finishReason":"STOP"}]}\r\n\r\n'
).encode()


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(VERTEX_STREAM)])
def test_crlf_framed_stream_cut_at_every_byte(size: int) -> None:
    events = feed_in_pieces(VERTEX_STREAM, size)
    texts = [json.loads(event.data)["candidates"][0]["content"]["parts"][0]["text"] for event in events]
    assert texts == ["日本", "語🎌"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # WHATWG's examples: comments, multi-line data, the optional space, named events.
        (b": comment\ndata: first\ndata: second\n\n", [ServerSentEvent("first\nsecond")]),
        (b"data:no space\n\ndata:  two spaces\n\n", [ServerSentEvent("no space"), ServerSentEvent(" two spaces")]),
        (b"event: error\ndata: {}\n\n", [ServerSentEvent("{}", "error")]),
        (b"data: cr only\r\rdata: mixed\r\n\n", [ServerSentEvent("cr only"), ServerSentEvent("mixed")]),
        (b"\xef\xbb\xbfdata: bom\n\n", [ServerSentEvent("bom")]),
        (b"data\n\n", [ServerSentEvent("")]),
        (b"id: 1\nretry: 10\n\n", []),
        (b"data: no blank line at the end\n", []),
        (b"data: ends in a lone CR\r\r", [ServerSentEvent("ends in a lone CR")]),
    ],
)
def test_sse_decoder_follows_the_spec(raw: bytes, expected: list[ServerSentEvent]) -> None:
    for size in range(1, len(raw) + 1):
        assert feed_in_pieces(raw, size) == expected, f"cut every {size} bytes"


OPENAI_STREAM = (
    'data: {"choices":[{"delta":{"role":"assistant","content":""},"index":0}]}\n\n'
    'data: {"choices":[{"delta":{"content":"日本語"},"index":0}]}\n\n'
    ": keep-alive\n\n"
    'data: {"choices":[{"delta":{"content":"🎌👩‍💻"},"index":0,"finish_reason":"stop"}]}\n\n'
    "data: [DONE]\n\n"
).encode()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, len(OPENAI_STREAM)])
def test_lf_framed_stream_cut_at_every_byte(size: int) -> None:
    events = feed_in_pieces(OPENAI_STREAM, size)
    assert events[-1] == ServerSentEvent("[DONE]")
    deltas = [json.loads(event.data)["choices"][0]["delta"].get("content") for event in events[:-1]]
    assert deltas == ["", "日本語", "🎌👩‍💻"]


def test_a_long_line_in_many_pieces_is_one_line() -> None:
    text = "x" * 100_000
    raw = f"data: {text}\n\n".encode()
    assert feed_in_pieces(raw, 7) == [ServerSentEvent(text)]


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_the_openai_sdk_decoder_on_random_cuts(seed: int) -> None:
    """The SDK's own decoder is the reference for the streams it would have read."""
    chance = random.Random(seed)
    endings = [b"\n", b"\r\n", b"\r"]
    raw = b""
    for index in range(30):
        ending = chance.choice(endings)
        payload = json.dumps({"n": index, "text": "データ🎌" * chance.randint(0, 3)}, ensure_ascii=False).encode()
        lines = [b": comment"] if chance.random() < 0.2 else []
        lines += [b"data: " + payload, b"data:" + payload[:5]] if chance.random() < 0.2 else [b"data: " + payload]
        raw += ending.join(lines) + ending + ending
    cuts = sorted(chance.sample(range(1, len(raw)), 40))
    pieces = [raw[start:end] for start, end in zip([0, *cuts], [*cuts, len(raw)], strict=True)]

    ours = SSEDecoder()
    decoded = [event.data for piece in pieces for event in ours.feed(piece)] + [e.data for e in ours.close()]

    async def chunks() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async def reference() -> list[str]:
        return [event.data async for event in OpenAISDKDecoder().aiter_bytes(chunks())]

    assert decoded == asyncio.run(reference())
