"""The Bedrock emulator's ConverseStream, read by the real boto3 client over real HTTP.

Nothing is mocked: botocore signs, serialises, parses the binary event stream
and reassembles text, tool use and reasoning blocks, so anything the emulator
gets wrong on the wire fails here the way it would fail the relay.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.eventstream import PADDING_ALPHABET, decode_frames
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import JAPANESE, MODEL, kinds, stream, text_of, user


def test_text_stream_reassembles_byte_exactly_in_wire_order(client: BaseClient, app: BedrockEmulator) -> None:
    events = stream(client, text=JAPANESE, chunks=9)
    assert text_of(events) == JAPANESE
    assert kinds(events) == ["messageStart"] + ["contentBlockDelta"] * 9 + [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert events[-3]["contentBlockStop"] == {"contentBlockIndex": 0}
    assert events[-2]["messageStop"] == {"stopReason": "end_turn"}
    record = app.recorder.records[-1].wait_finished()
    assert (record.auth, record.key, record.outcome, record.frames_sent) == ("sigv4", MODEL, "completed", 13)


@pytest.mark.parametrize("byte_split", [1, 3, 7])
def test_frames_cut_at_arbitrary_bytes_still_reassemble(client: BaseClient, byte_split: int) -> None:
    events = stream(client, text=JAPANESE, chunks=5, byte_split=byte_split)
    assert text_of(events) == JAPANESE
    assert kinds(events)[-1] == "metadata"


def test_raw_wire_format(server: ThreadedServer) -> None:
    body = {"messages": user(inline_prompt(text="hi", chunks=2))}
    response = httpx.post(
        f"{server.url}/model/{MODEL.replace(':', '%3A')}/converse-stream",
        json=body,
        headers={"Authorization": "Bearer ABSKexample"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert response.headers["x-amzn-requestid"]
    frames = list(decode_frames(response.content))
    assert [f.headers[":event-type"] for f in frames] == [
        "messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata",
    ]  # fmt: skip
    for frame in frames:
        assert set(frame.headers) == {":event-type", ":content-type", ":message-type"}
        assert (frame.headers[":content-type"], frame.headers[":message-type"]) == ("application/json", "event")
        assert PADDING_ALPHABET.startswith(frame.json()["p"])
    assert frames[1].json()["delta"] == {"text": "h"}


def test_tool_use_blocks_with_scripted_and_generated_ids(client: BaseClient) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "東京", "unit": "c"}, "id": "tooluse_fixed", "pieces": 4},
        {"name": "lookup", "arguments": '{"q":"x"}'},
    ]
    events = stream(client, text="Checking.", tool_calls=calls)
    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert [s["contentBlockIndex"] for s in starts] == [1, 2]
    assert starts[0]["start"]["toolUse"] == {"toolUseId": "tooluse_fixed", "name": "get_weather"}
    generated = starts[1]["start"]["toolUse"]["toolUseId"]
    assert generated.startswith("tooluse_") and len(generated) == 30
    fragments = [e["contentBlockDelta"] for e in events if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})]
    first = [f["delta"]["toolUse"]["input"] for f in fragments if f["contentBlockIndex"] == 1]
    assert len(first) == 4 and json.loads("".join(first)) == {"city": "東京", "unit": "c"}
    assert "".join(f["delta"]["toolUse"]["input"] for f in fragments if f["contentBlockIndex"] == 2) == '{"q":"x"}'
    assert text_of(events, 0) == "Checking."
    assert {"contentBlockStop": {"contentBlockIndex": 2}} in events
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_reasoning_deltas_then_signature_then_text(client: BaseClient) -> None:
    events = stream(client, reasoning="Let me think… 考える", text="Answer.")
    reasoning = [
        e["contentBlockDelta"] for e in events if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert all(r["contentBlockIndex"] == 0 for r in reasoning)
    texts = [r["delta"]["reasoningContent"].get("text", "") for r in reasoning]
    assert "".join(texts) == "Let me think… 考える"
    assert set(reasoning[-1]["delta"]["reasoningContent"]) == {"signature"}
    assert events[len(reasoning) + 1] == {"contentBlockStop": {"contentBlockIndex": 0}}
    assert text_of(events, 1) == "Answer."


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ({}, "end_turn"),
        ({"finish_reason": "max_tokens"}, "max_tokens"),
        ({"finish_reason": "guardrail_intervened"}, "guardrail_intervened"),
        ({"content_filter": True}, "content_filtered"),
    ],
)
def test_message_stop_reasons(client: BaseClient, scenario: dict[str, Any], reason: str) -> None:
    events = stream(client, text="x", **scenario)
    assert events[-2] == {"messageStop": {"stopReason": reason}}


def test_metadata_usage_and_metrics(client: BaseClient) -> None:
    metadata = stream(client, text="abc", prompt_tokens=11, completion_tokens=7, delay_ms=5)[-1]["metadata"]
    assert metadata["usage"] == {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18}
    assert isinstance(metadata["metrics"]["latencyMs"], int) and metadata["metrics"]["latencyMs"] >= 5


def test_cache_reads_and_writes_are_left_out_of_input_tokens(client: BaseClient) -> None:
    scenario = {"prompt_tokens": 40, "completion_tokens": 7, "cached_tokens": 24, "cache_write_tokens": 8}
    usage = stream(client, text="abc", **scenario)[-1]["metadata"]["usage"]
    assert usage == {
        "inputTokens": 8,
        "outputTokens": 7,
        "totalTokens": 47,
        "cacheReadInputTokens": 24,
        "cacheWriteInputTokens": 8,
    }
