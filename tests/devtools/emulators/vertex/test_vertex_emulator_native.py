"""The Vertex emulator's native generateContent endpoints, their faults, and the routing around them.

Read over raw HTTP with a minimal SSE parser, so the CRLF framing, JSON-array
errors and scripted faults are checked byte for byte, as the relay will see them.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import Scenario, inline_prompt
from devtools.emulators.vertex import VertexEmulator, create_app
from devtools.emulators.vertex_signatures import call_key
from devtools.emulators.vertex_signatures import signature as signature_over
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import (
    JAPANESE,
    NATIVE_MODEL,
    chat,
    credentials_for,
    native_body,
    native_stream,
    native_url,
    openai_client,
    refreshed,
    sse_events,
)
from tests.polling import wait_for

pytestmark = pytest.mark.timeout(30)


def test_native_stream_text_thoughts_tools_and_usage(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    scenario = {
        "text": JAPANESE,
        "chunks": 3,
        "reasoning": "Think first.",
        "tool_calls": [{"name": "lookup", "arguments": {"q": "晴れ", "n": 2}}],
        "prompt_tokens": 5,
        "completion_tokens": 9,
    }
    response, events = native_stream(server.url, token, inline_prompt(**scenario))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert b"\n\n" not in response.content.replace(b"\r\n\r\n", b"")
    assert b"[DONE]" not in response.content
    parts = [event["candidates"][0]["content"]["parts"][0] for event in events]
    assert {event["candidates"][0]["content"]["role"] for event in events} == {"model"}
    assert "".join(p["text"] for p in parts if p.get("thought")) == "Think first."
    assert "".join(p["text"] for p in parts if "text" in p and not p.get("thought")) == JAPANESE
    assert [p["functionCall"] for p in parts if "functionCall" in p] == [
        {"name": "lookup", "args": {"q": "晴れ", "n": 2}}
    ]
    assert [event["candidates"][0].get("finishReason") for event in events[:-1]] == [None] * (len(events) - 1)
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all(event["usageMetadata"] == {"trafficType": "ON_DEMAND"} for event in events[:-1])
    usage = events[-1]["usageMetadata"]
    thoughts = usage["thoughtsTokenCount"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"]) == (5, 9)
    assert usage["totalTokenCount"] == 5 + 9 + thoughts
    assert {event["modelVersion"] for event in events} == {NATIVE_MODEL}
    assert len({event["responseId"] for event in events}) == 1
    assert events[0]["createTime"].endswith("Z")
    assert emulator.recorder.records[0].key == NATIVE_MODEL


@pytest.mark.parametrize("reason", ["MAX_TOKENS", "SAFETY"])
def test_native_finish_reason_is_verbatim(server: ThreadedServer, token: str, reason: str) -> None:
    _, events = native_stream(server.url, token, inline_prompt(text="abc", finish_reason=reason))
    assert events[-1]["candidates"][0]["finishReason"] == reason


def test_native_inline_scenario_comes_from_the_last_user_turn(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    emulator.book.set(NATIVE_MODEL, {"text": "from the book"})
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": inline_prompt(text="stale")}]},
            {"role": "model", "parts": [{"text": "ok"}]},
            {"role": "user", "parts": [{"text": "no inline scenario here"}]},
        ]
    }
    response = httpx.post(native_url(server.url), json=body, headers={"Authorization": f"Bearer {token}"})
    text = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in sse_events(response.content))
    assert text == "from the book"


def test_native_byte_split_keeps_utf8_intact(server: ThreadedServer, token: str) -> None:
    _, events = native_stream(server.url, token, inline_prompt(text=JAPANESE, chunks=2, byte_split=5))
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == JAPANESE


def test_native_generate_content_is_one_document(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text=JAPANESE, reasoning="hmm", tool_calls=[{"name": "f", "arguments": {}}])
    response = httpx.post(
        native_url(server.url, "generateContent"),
        json=native_body(prompt),
        headers={"Authorization": f"Bearer {token}"},
    )
    document = response.json()
    candidate = document["candidates"][0]
    signature = signature_over("hmm", call_key("f", {}))  # a thinking model signs its first function call
    assert candidate["content"]["parts"] == [
        {"text": "hmm", "thought": True},
        {"text": JAPANESE},
        {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": signature},
    ]
    assert candidate["finishReason"] == "STOP"
    assert document["usageMetadata"]["totalTokenCount"] > 0
    assert response.content.startswith(b"{\n  ")


def test_native_stream_without_sse_is_a_json_array(server: ThreadedServer, token: str) -> None:
    url = native_url(server.url).removesuffix("?alt=sse")
    body = native_body(inline_prompt(text="abcd", chunks=2))
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    documents = response.json()
    assert [d["candidates"][0]["content"]["parts"][0]["text"] for d in documents] == ["ab", "cd"]
    assert documents[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "INVALID_ARGUMENT"),
        (403, "PERMISSION_DENIED"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ],
)
def test_native_stream_errors_are_one_element_arrays(
    server: ThreadedServer, token: str, status: int, name: str
) -> None:
    response, _ = native_stream(server.url, token, inline_prompt(status=status))
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["error"]["code"] == status
    assert body[0]["error"]["status"] == name
    assert response.content.startswith(b'[{\n  "error"')


def test_native_non_streaming_error_is_a_plain_object(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(
        status=429, error_message="Quota exceeded for aiplatform.googleapis.com/generate_content_requests"
    )
    response = httpx.post(
        native_url(server.url, "generateContent"),
        json=native_body(prompt),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 429
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert response.json()["error"]["message"].startswith("Quota exceeded")


def test_native_error_after_sends_an_error_event(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    response, events = native_stream(
        server.url, token, inline_prompt(text="abc", chunks=3, error_after=1, error_code="UNAVAILABLE")
    )
    assert response.status_code == 200
    assert events[0]["candidates"][0]["content"]["parts"][0]["text"] == "a"
    assert events[1] == {
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    }
    assert len(events) == 2
    record = emulator.recorder.records[0]
    assert wait_for(lambda: record.outcome == "error_frame")
    assert record.frames_sent == 1


def test_native_close_after_drops_the_connection(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        native_stream(server.url, token, inline_prompt(text="abc", chunks=3, close_after=2))
    assert emulator.recorder.records[0].outcome == "closed"
    assert emulator.recorder.records[0].frames_sent == 2


def test_native_stall_then_client_close_is_recorded(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    prompt = inline_prompt(text="abcd", chunks=4, stall_after=1)
    with (
        httpx.Client(timeout=10) as session,
        session.stream(
            "POST", native_url(server.url), json=native_body(prompt), headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        first = next(response.iter_bytes())
    assert first.startswith(b"data: ")
    record = emulator.recorder.records[0]
    assert wait_for(lambda: record.client_disconnected)
    assert (record.frames_sent, record.outcome) == (1, "stalled")
    assert record.disconnected_at is not None


@pytest.mark.parametrize(("location", "version"), [("global", "v1"), ("europe-west4", "v1beta1")])
def test_other_locations_and_versions_route_the_same(
    server: ThreadedServer, token: str, location: str, version: str
) -> None:
    url = native_url(server.url, location=location, version=version)
    response = httpx.post(url, json=native_body(inline_prompt(text="ok")), headers={"Authorization": f"Bearer {token}"})
    assert sse_events(response.content)[0]["candidates"][0]["content"]["parts"][0]["text"] == "ok"
    completion = chat(openai_client(server.url, token, location=location, version=version), inline_prompt(text="ok"))
    assert completion.choices[0].message.content == "ok"


def test_unknown_route_is_not_found(server: ThreadedServer, token: str) -> None:
    response = httpx.post(f"{server.url}/v1/projects/p/locations/l/publishers/google/models/m:predict", json={})
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_default_scenario_and_delays() -> None:
    emulator = create_app(Scenario(text="slow", chunks=2, delay_ms=150))
    with ThreadedServer(emulator) as server:
        token = refreshed(credentials_for(server.url))
        started = time.monotonic()
        _, events = native_stream(server.url, token, "no inline scenario")
        elapsed = time.monotonic() - started
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == "slow"
    assert elapsed >= 0.14  # one 150 ms pause; the loop timer may fire a hair early


def test_content_filter_stops_halfway(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text="abcdef", chunks=6, content_filter=True)
    _, events = native_stream(server.url, token, prompt)
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == "abc"
    final = events[-1]["candidates"][0]
    assert final["finishReason"] == "SAFETY"
    assert final["safetyRatings"][0]["blocked"] is True
    completion = chat(openai_client(server.url, token), prompt)
    assert (completion.choices[0].message.content, completion.choices[0].finish_reason) == ("abc", "content_filter")


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"{not json", "Invalid JSON payload"), (json.dumps(native_body('#emulate {"colour": 1}')).encode(), "colour")],
)
def test_bad_requests_are_invalid_argument(server: ThreadedServer, token: str, content: bytes, needle: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = httpx.post(native_url(server.url), content=content, headers=headers)
    assert response.status_code == 400
    [body] = response.json()
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert needle in body["error"]["message"]


def test_lifespan_protocol_is_answered(emulator: VertexEmulator) -> None:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(emulator({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_cached_tokens_are_reported_inside_the_prompt_count(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text="abc", prompt_tokens=40, completion_tokens=3, cached_tokens=32)
    _, events = native_stream(server.url, token, prompt)
    usage = events[-1]["usageMetadata"]
    assert (usage["promptTokenCount"], usage["cachedContentTokenCount"]) == (40, 32)
    assert usage["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": 32}]
