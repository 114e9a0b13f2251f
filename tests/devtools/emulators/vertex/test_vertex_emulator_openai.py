"""The Vertex emulator's OpenAI-compatible chat completions endpoint, driven by the real openai SDK.

The relay's Vertex provider speaks this dialect; these tests pin down its
chunks, usage, tool calls and error bodies so a regression in the emulator
cannot silently make the relay's Vertex tests meaningless.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.emulators.vertex import VertexEmulator
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import JAPANESE, OPENAI_MODEL, chat, openai_client
from tests.polling import wait_for

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("byte_split", [None, 3])
def test_openai_stream_is_byte_exact(
    server: ThreadedServer, emulator: VertexEmulator, token: str, byte_split: int | None
) -> None:
    scenario = {"text": JAPANESE, "chunks": 6, "byte_split": byte_split}
    chunks = list(chat(openai_client(server.url, token), inline_prompt(**scenario), stream=True))
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == JAPANESE
    assert len(chunks) == 6
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk.model for chunk in chunks} == {OPENAI_MODEL}
    assert len({chunk.id for chunk in chunks}) == 1
    assert all(chunk.choices[0].delta.role == "assistant" for chunk in chunks)
    assert [chunk.choices[0].finish_reason for chunk in chunks] == [None] * 5 + ["stop"]
    assert [chunk.usage is not None for chunk in chunks] == [False] * 5 + [True]
    usage = chunks[-1].usage
    assert usage.completion_tokens == 6
    assert usage.total_tokens == usage.prompt_tokens + 6
    record = emulator.recorder.records[0]
    assert record.key == OPENAI_MODEL
    # Six chunks plus [DONE]. The SDK hangs up as soon as it reads [DONE], so
    # the emulator may still be finishing its last write when the SDK returns.
    assert wait_for(lambda: record.frames_sent == 7)


def test_openai_stream_raw_frames_end_with_done(server: ThreadedServer, token: str) -> None:
    body = {"model": OPENAI_MODEL, "stream": True, "messages": [{"role": "user", "content": inline_prompt(text="hi")}]}
    url = f"{server.url}/v1beta1/projects/p/locations/global/endpoints/openapi/chat/completions"
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.content.split(b"\n\n")
    assert frames[-2:] == [b"data: [DONE]", b""]
    first = json.loads(frames[0][len(b"data: ") :])
    assert list(first) == sorted(first)
    assert first["choices"][0]["delta"] == {"content": "hi", "role": "assistant"}


def test_openai_stream_tool_calls(server: ThreadedServer, token: str) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "東京", "unit": "c"}, "id": "call_1"},
        {"name": "get_time", "arguments": '{"tz": "Asia/Tokyo"}'},
    ]
    chunks = list(chat(openai_client(server.url, token), inline_prompt(text="", tool_calls=calls), stream=True))
    deltas = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
    assert [d.function.name for d in deltas] == ["get_weather", "get_time"]
    assert [d.index for d in deltas] == [0, 1]
    assert deltas[0].id == "call_1"
    assert deltas[1].id.startswith("call_")
    assert json.loads(deltas[0].function.arguments) == {"city": "東京", "unit": "c"}
    assert deltas[1].function.arguments == '{"tz":"Asia/Tokyo"}'
    assert chunks[-1].choices[0].finish_reason == "stop"  # Google's quirk: streamed tool calls finish "stop"


def test_openai_unstreamed_tool_calls_finish_tool_calls(server: ThreadedServer, token: str) -> None:
    completion = chat(openai_client(server.url, token), inline_prompt(text="", tool_calls=[{"name": "f"}]))
    assert completion.choices[0].message.tool_calls[0].function.name == "f"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_non_streaming_completion(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text=JAPANESE, reasoning="Let me think.", prompt_tokens=11, completion_tokens=7)
    completion = chat(openai_client(server.url, token), prompt)
    assert completion.object == "chat.completion"
    assert completion.model == OPENAI_MODEL
    assert completion.choices[0].message.content == JAPANESE
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7 + 8)
    assert completion.usage.total_tokens == 26


def test_openai_scenario_by_key_and_finish_reason_mapping(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    emulator.book.set(OPENAI_MODEL, {"text": "cut", "finish_reason": "MAX_TOKENS"})
    completion = chat(openai_client(server.url, token), "plain prompt")
    assert completion.choices[0].message.content == "cut"
    assert completion.choices[0].finish_reason == "length"


def test_openai_rate_limit_is_a_list_body(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        chat(openai_client(server.url, token), inline_prompt(status=429, retry_after=7), stream=True)
    body = caught.value.body
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert body[0]["error"]["message"].startswith("Resource exhausted. Please try again later.")
    assert caught.value.response.headers["retry-after"] == "7"
    assert emulator.recorder.records[0].status == 429


def test_openai_error_after_raises_mid_stream(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    received: list[str] = []
    stream = chat(openai_client(server.url, token), inline_prompt(text="abcdef", chunks=6, error_after=2), stream=True)
    with pytest.raises(openai.APIError, match="Internal error encountered"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["a", "b"]
    assert wait_for(lambda: emulator.recorder.records[0].outcome == "error_frame")


def test_openai_model_needs_a_publisher_prefix(server: ThreadedServer, token: str) -> None:
    client = openai_client(server.url, token)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gemini-2.0-flash-001", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body[0]["error"]["status"] == "INVALID_ARGUMENT"  # type: ignore[index]
