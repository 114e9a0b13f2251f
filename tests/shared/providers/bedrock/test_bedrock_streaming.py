"""Bedrock end to end, the answer: the real openai SDK -> relay -> boto3-signed ConverseStream -> emulator.

What a client sees of a stream (text, tool calls, reasoning, usage, finish
reasons) and what the relay sends upstream for it; failures, credentials and
what a stream holds open have modules of their own.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import httpx
import openai
import pytest

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.builders import AUTH_HEADERS, BEDROCK_ENV, BEDROCK_MODEL, bedrock_backend, serve_relay
from tests.shared.providers.bedrock.bedrock_calls import post_stream, sse_frames, stream_chunks, text_of, user

ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"


# --- streaming -----------------------------------------------------------------------


def test_stream_reassembles_byte_for_byte(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    chunks = stream_chunks(bedrock_client, inline_prompt(chunks=17))
    assert text_of(chunks) == DEFAULT_TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    record = bedrock.recorder.records[-1].wait_finished()
    assert (record.auth, record.key, record.outcome) == ("sigv4", BEDROCK_MODEL, "completed")


@pytest.mark.parametrize("byte_split", [1, 5])
def test_multibyte_characters_cut_across_frames(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator, byte_split: int
) -> None:
    japanese = "日本語のテキスト🎌と絵文字👩‍💻がチャンク境界で分割されます。"
    chunks = stream_chunks(bedrock_client, inline_prompt(text=japanese, chunks=9, byte_split=byte_split))
    assert text_of(chunks) == japanese


def test_deltas_are_forwarded_as_they_arrive(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    stream = bedrock_client.chat.completions.create(
        model="bedrock", messages=user(inline_prompt(text="abcdef", chunks=6, delay_ms=250)), stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            frames_at_first_delta = bedrock.recorder.records[-1].frames_sent
            first_delta_at = time.monotonic()
            break
    rest = text_of(list(stream))
    finished_at = time.monotonic()
    assert rest == "bcdef"
    assert frames_at_first_delta < bedrock.recorder.records[-1].wait_finished().frames_sent - 4
    assert finished_at - first_delta_at > 0.75


def test_response_headers_are_sse(bedrock_http: httpx.Client, bedrock: BedrockEmulator) -> None:
    response = bedrock_http.post(
        "/api/v1/chat/completions", json={"model": "bedrock", "stream": True, "messages": user("hi")}
    )
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["x-relay-backend"] == "bedrock-east"
    frames = sse_frames(response)
    assert frames[-1] == "[DONE]"
    assert json.loads(frames[-2])["choices"][0]["finish_reason"] == "stop"


def test_tool_call_deltas_have_stable_index_id_and_name(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator
) -> None:
    weather = json.dumps({"city": "東京", "unit": "celsius"}, ensure_ascii=False)
    calls = [
        {"name": "get_weather", "arguments": weather, "pieces": 4, "id": "tooluse_weather"},
        {"name": "get_time", "arguments": '{"tz": "Asia/Tokyo"}', "pieces": 2},
    ]
    chunks = stream_chunks(bedrock_client, inline_prompt(text="Let me check.", tool_calls=calls))
    deltas = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    first = [delta for delta in deltas if delta.index == 0]
    second = [delta for delta in deltas if delta.index == 1]
    assert (first[0].id, first[0].function.name) == ("tooluse_weather", "get_weather")
    assert second[0].id.startswith("tooluse_") and second[0].function.name == "get_time"
    assert all(delta.id is None and delta.function.name is None for delta in first[1:] + second[1:])
    assert "".join(delta.function.arguments or "" for delta in first) == weather
    assert json.loads("".join(delta.function.arguments or "" for delta in second)) == {"tz": "Asia/Tokyo"}
    assert len(first) == 5 and len(second) == 3  # the start, then each input piece as it arrived
    assert text_of(chunks) == "Let me check."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_reasoning_is_relayed_as_reasoning_content(bedrock_http: httpx.Client, bedrock: BedrockEmulator) -> None:
    frames = post_stream(bedrock_http, inline_prompt(reasoning="Think: 考える", text="Answer."))
    deltas = [json.loads(frame)["choices"][0]["delta"] for frame in frames[:-2]]
    assert "".join(delta.get("reasoning_content", "") for delta in deltas) == "Think: 考える"
    assert "".join(delta.get("content", "") for delta in deltas) == "Answer."


def test_usage_chunk_only_when_asked(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    prompt = inline_prompt(chunks=5, prompt_tokens=11, completion_tokens=5)
    with_usage = stream_chunks(bedrock_client, prompt, stream_options={"include_usage": True})
    without_usage = stream_chunks(bedrock_client, prompt)
    last = with_usage[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 5, 16)
    assert all(chunk.usage is None for chunk in without_usage)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_stop_reasons_become_finish_reasons(
    bedrock_client: openai.OpenAI, bedrock: BedrockEmulator, stop_reason: str, finish_reason: str
) -> None:
    chunks = stream_chunks(bedrock_client, inline_prompt(text="x", finish_reason=stop_reason))
    assert chunks[-1].choices[0].finish_reason == finish_reason


def test_non_streaming_request_returns_one_completion(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    prompt = inline_prompt(chunks=7, prompt_tokens=3, completion_tokens=7, tool_calls=[{"name": "f"}])
    completion = bedrock_client.chat.completions.create(model="bedrock", messages=user(prompt))
    message = completion.choices[0].message
    assert message.content == DEFAULT_TEXT
    assert [(call.function.name, call.function.arguments) for call in message.tool_calls] == [("f", "{}")]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 10


# --- what goes upstream --------------------------------------------------------------


def test_request_is_translated_to_converse(bedrock_client: openai.OpenAI, bedrock: BedrockEmulator) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "tooluse_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "tooluse_1", "content": "18°C"},
        {"role": "user", "content": inline_prompt(text="Mild.")},
    ]
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    completion = bedrock_client.chat.completions.create(
        model="bedrock", messages=messages, tools=tools, tool_choice="auto", max_tokens=50, temperature=0.2, stop="END"
    )
    assert completion.choices[0].message.content == "Mild."
    body = bedrock.recorder.records[-1].body
    assert body["system"] == [{"text": "Be brief."}]
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}}
    ]
    assert body["messages"][2]["content"][0] == {
        "toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18°C"}]}
    }
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2, "stopSequences": ["END"]}
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}


def test_arn_model_id_is_sent_exactly_as_signed(bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator) -> None:
    config = {
        "backends": [bedrock_backend("arn", bedrock_emulator.url, model_id=ARN)],  # type: ignore[attr-defined]
        "models": {"arn": ["arn"]},
    }
    bedrock.book.set(ARN, {"text": "via the inference profile"})
    with serve_relay(config, BEDROCK_ENV) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "arn", "messages": user("hi")},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.json()["choices"][0]["message"]["content"] == "via the inference profile"
    assert bedrock.recorder.records[-1].path == f"/model/{quote(ARN, safe='')}/converse-stream"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("presence_penalty", 0.5),
        ("frequency_penalty", 0.5),
        ("seed", 7),
        ("reasoning_effort", "low"),
        ("logit_bias", {"50256": -100}),
    ],
)
def test_unsupported_parameters_are_400_before_any_upstream_call(
    bedrock_http: httpx.Client, bedrock: BedrockEmulator, field: str, value: object
) -> None:
    body = {"model": "bedrock", "stream": True, "messages": user("hi"), field: value}
    response = bedrock_http.post("/api/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", field)
    assert field in error["message"]
    assert bedrock.recorder.records == []
