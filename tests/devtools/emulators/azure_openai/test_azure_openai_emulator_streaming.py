"""The Azure OpenAI emulator's streamed chat completions, read by the real ``openai`` SDK and as raw bytes.

These pin down the SSE layout the relay will be tested against (the empty
first chunk, content filter results, tool call deltas, usage), so a regression
in the emulator cannot silently make the relay's tests meaningless.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import (
    API_KEY,
    API_VERSION,
    DEPLOYMENT,
    JAPANESE,
    chat_url,
    extra,
    raw_frames,
    stream,
    streamed_text,
    user,
)

pytestmark = pytest.mark.timeout(30)


def test_streamed_japanese_and_emoji_text_reassembles_exactly(client: openai.AzureOpenAI) -> None:
    chunks = stream(client, inline_prompt(text=JAPANESE, chunks=9))

    assert streamed_text(chunks) == JAPANESE
    assert sum(1 for chunk in chunks for choice in chunk.choices if choice.delta.content) == 9
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert {chunk.id for chunk in chunks[1:]} == {chunks[1].id} and chunks[1].id.startswith("chatcmpl-")


def test_byte_split_cuts_utf8_characters_and_the_sdk_still_reassembles(
    client: openai.AzureOpenAI, server: ThreadedServer
) -> None:
    prompt = inline_prompt(text=JAPANESE, chunks=4, byte_split=1)

    assert streamed_text(stream(client, prompt)) == JAPANESE

    pieces: list[bytes] = []
    payload = {"messages": user(prompt), "stream": True}
    with httpx.stream("POST", chat_url(server), headers={"api-key": API_KEY}, json=payload, timeout=10) as response:
        pieces.extend(response.iter_raw())
    assert b"".join(pieces).decode("utf-8").count(JAPANESE[:3]) == 1

    def undecodable(piece: bytes) -> bool:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    assert any(undecodable(piece) for piece in pieces), "no read ever ended inside a UTF-8 character"


def test_first_chunk_has_empty_choices_and_prompt_filter_results(client: openai.AzureOpenAI) -> None:
    first, role = stream(client, "hello")[:2]

    assert first.choices == [] and first.id == "" and first.model == "" and first.created == 0
    verdict = extra(first)["prompt_filter_results"][0]
    assert verdict["prompt_index"] == 0
    assert verdict["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert role.choices[0].delta.role == "assistant" and role.choices[0].delta.content == ""
    assert role.system_fingerprint and role.system_fingerprint.startswith("fp_")


def test_raw_stream_bytes_follow_azure_layout(server: ThreadedServer) -> None:
    payload = {"messages": user(inline_prompt(text="Hi there", chunks=2)), "stream": True}
    response = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json=payload)

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["apim-request-id"] and response.headers["x-request-id"]
    assert "azureml-model-session" in response.headers
    frames = raw_frames(response.content)
    assert frames[0].startswith(
        b'{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,'
    )
    assert frames[-1] == b"[DONE]"
    content = json.loads(frames[2])
    assert list(content) == ["choices", "created", "id", "model", "object", "system_fingerprint"]
    assert content["choices"][0]["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}
    assert content["choices"][0]["delta"] == {"content": "Hi t"}
    finish = json.loads(frames[-2])["choices"][0]
    assert finish == {"content_filter_results": {}, "delta": {}, "finish_reason": "stop", "index": 0, "logprobs": None}


def test_tool_call_deltas(client: openai.AzureOpenAI) -> None:
    arguments = {"city": "東京", "unit": "celsius"}
    prompt = inline_prompt(
        text="",
        tool_calls=[
            {"name": "get_weather", "arguments": arguments, "pieces": 4},
            {"name": "get_time", "id": "call_fixed"},
        ],
    )
    chunks = stream(client, prompt)

    calls: dict[int, dict[str, str]] = {}
    headers = []
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                assert delta.function is not None
                if delta.id:
                    headers.append(delta)
                    call["id"] = delta.id
                    call["name"] = delta.function.name or ""
                    assert delta.type == "function" and delta.function.arguments == ""
                call["arguments"] += delta.function.arguments or ""
    assert len(headers) == 2
    assert calls[0]["id"].startswith("call_") and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == arguments
    assert calls[1] == {"id": "call_fixed", "name": "get_time", "arguments": "{}"}
    assert chunks[1].choices[0].delta.role == "assistant" and chunks[1].choices[0].delta.tool_calls
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_include_usage_adds_a_final_usage_chunk(client: openai.AzureOpenAI, server: ThreadedServer) -> None:
    prompt = inline_prompt(text="four tokens here", chunks=4, prompt_tokens=11)
    chunks = stream(client, prompt, include_usage=True)

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 4, 15)
    assert all(chunk.usage is None for chunk in chunks[:-1])

    with_usage = httpx.post(
        chat_url(server),
        headers={"api-key": API_KEY},
        json={"messages": user(prompt), "stream": True, "stream_options": {"include_usage": True}},
    )
    without = httpx.post(
        chat_url(server), headers={"api-key": API_KEY}, json={"messages": user(prompt), "stream": True}
    )
    assert json.loads(raw_frames(with_usage.content)[2])["usage"] is None
    assert all(b'"usage"' not in frame for frame in raw_frames(without.content))


def test_content_filter_stops_text_early(client: openai.AzureOpenAI) -> None:
    chunks = stream(client, inline_prompt(text="abcdefgh", chunks=8, content_filter=True))

    assert streamed_text(chunks) == "abcd"
    final = chunks[-1].choices[0]
    assert final.finish_reason == "content_filter"
    assert extra(final)["content_filter_results"]["hate"]["filtered"] is True


def test_async_client_streams(server: ThreadedServer) -> None:
    async def run() -> str:
        client = openai.AsyncAzureOpenAI(
            azure_endpoint=server.url, api_key=API_KEY, api_version=API_VERSION, max_retries=0
        )
        async with client:
            response = await client.chat.completions.create(
                model=DEPLOYMENT, messages=user(inline_prompt(text=JAPANESE, chunks=5, delay_ms=5)), stream=True
            )
            return "".join([choice.delta.content or "" async for chunk in response for choice in chunk.choices])

    assert asyncio.run(run()) == JAPANESE
