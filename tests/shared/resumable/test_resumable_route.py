"""Resumable streams on one relay with the in-memory log, over real HTTP against the Azure emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.processes import free_port
from tests.builders import RELAY_TEST_KEY, azure_backend
from tests.polling import wait_for
from tests.relay_configs import CHAT_URL, chat_body
from tests.shared.resumable.sse_text import OTHER_KEY, RESUMABLE, auth, chat_text, events_of, read_events

pytestmark = pytest.mark.timeout(60)

TEXT = "Resumable streams keep going when the connection drops: こんにちは 🚀 and the rest arrives."


def slow_chat(chunks: int = 20, delay_ms: float = 60) -> dict[str, Any]:
    return chat_body(inline_prompt(text=TEXT, chunks=chunks, delay_ms=delay_ms), stream=True)


def test_an_opted_in_stream_numbers_every_event_and_names_its_id(relay: httpx.Client) -> None:
    response = relay.post(CHAT_URL, json=slow_chat(delay_ms=0), headers=RESUMABLE)
    assert response.status_code == 200, response.text
    stream_id = response.headers["x-relay-stream-id"]
    assert len(stream_id) >= 22  # at least 128 bits, base64url
    events = events_of(response.text)
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert chat_text(events) == TEXT
    assert events[-1].data == "[DONE]"


def test_without_the_opt_in_nothing_changes(relay: httpx.Client) -> None:
    response = relay.post(CHAT_URL, json=slow_chat(delay_ms=0))
    assert "x-relay-stream-id" not in response.headers
    assert "\nid: " not in response.text and not response.text.startswith("id: ")
    assert chat_text(events_of(response.text)) == TEXT


def test_a_dropped_connection_resumes_with_last_event_id_and_the_upstream_ran_on(
    relay: httpx.Client, azure: Any
) -> None:
    with relay.stream("POST", CHAT_URL, json=slow_chat(), headers=RESUMABLE) as response:
        stream_id = response.headers["x-relay-stream-id"]
        _, first = read_events(response, 5)
    resumed = relay.get(f"/api/v1/streams/{stream_id}", headers={"Last-Event-ID": "5"})
    assert resumed.status_code == 200, resumed.text
    rest = events_of(resumed.text)
    assert [event.id for event in first + rest] == list(range(1, len(first) + len(rest) + 1))
    assert chat_text(first + rest) == TEXT
    assert rest[-1].data == "[DONE]"
    record = azure.recorder.records[0].wait_finished()
    assert not record.client_disconnected  # generation outlived the connection


def test_a_resume_after_completion_replays_the_same_bytes(relay: httpx.Client) -> None:
    original = relay.post(CHAT_URL, json=slow_chat(delay_ms=0), headers=RESUMABLE)
    stream_id = original.headers["x-relay-stream-id"]
    replay = relay.get(f"/api/v1/streams/{stream_id}", params={"after": "0"})
    assert replay.text == original.text
    tail = relay.get(f"/api/v1/streams/{stream_id}", params={"after": "3"})
    assert original.text.endswith(tail.text) and tail.text.startswith("id: 4\n")
    last = len(events_of(original.text))
    assert relay.get(f"/api/v1/streams/{stream_id}", params={"after": str(last)}).status_code == 204


def test_another_identity_and_unknown_ids_get_404(relay: httpx.Client) -> None:
    original = relay.post(CHAT_URL, json=slow_chat(delay_ms=0), headers=RESUMABLE)
    stream_id = original.headers["x-relay-stream-id"]
    for path, headers in [
        (f"/api/v1/streams/{stream_id}", auth(OTHER_KEY)),
        ("/api/v1/streams/" + "A" * 32, auth()),
        ("/api/v1/streams/not-an-id", auth()),
    ]:
        for method in ("GET", "DELETE"):
            response = relay.request(method, path, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"


def test_a_malformed_resume_point_is_a_400_naming_it(relay: httpx.Client) -> None:
    original = relay.post(CHAT_URL, json=slow_chat(delay_ms=0), headers=RESUMABLE)
    stream_id = original.headers["x-relay-stream-id"]
    for params, headers, name in [({"after": "-1"}, {}, "after"), ({}, {"Last-Event-ID": "x"}, "Last-Event-ID")]:
        response = relay.get(f"/api/v1/streams/{stream_id}", params=params, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == name


def test_cancel_stops_the_upstream_and_ends_the_stream_with_one_error(relay: httpx.Client, azure: Any) -> None:
    with relay.stream("POST", CHAT_URL, json=slow_chat(chunks=200), headers=RESUMABLE) as response:
        stream_id = response.headers["x-relay-stream-id"]
        read_events(response, 3)
    assert relay.delete(f"/api/v1/streams/{stream_id}").status_code == 204
    assert wait_for(lambda: azure.recorder.records[0].client_disconnected, seconds=2)
    resumed = events_of(relay.get(f"/api/v1/streams/{stream_id}", params={"after": "0"}).text)
    assert [event.id for event in resumed] == list(range(1, len(resumed) + 1))
    errors = [event for event in resumed if "error" in event.json()]
    assert len(errors) == 1 and errors[0] is resumed[-1]
    assert errors[0].json()["error"]["code"] == "stream_cancelled"
    assert len(resumed) < 200


def test_the_typed_dialect_resumes_in_its_own_dialect(relay: httpx.Client) -> None:
    body = {"model": "azure", "prompt": inline_prompt(text=TEXT, chunks=10, delay_ms=40)}
    with relay.stream("POST", "/api/chat", json=body, headers=RESUMABLE) as response:
        stream_id = response.headers["x-relay-stream-id"]
        _, first = read_events(response, 4)
    rest = events_of(relay.get(f"/api/v1/streams/{stream_id}", headers={"Last-Event-ID": "4"}).text)
    events = first + rest
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert "".join(event.json()["content"] for event in events if event.name == "text_delta") == TEXT
    assert [event.name for event in events].count("done") == 1 and events[-1].name == "done"


def test_the_responses_dialect_resumes_in_its_own_dialect(relay: httpx.Client) -> None:
    body = {"model": "azure", "input": inline_prompt(text=TEXT, chunks=10, delay_ms=40), "stream": True}
    with relay.stream("POST", "/api/v1/responses", json=body, headers=RESUMABLE) as response:
        stream_id = response.headers["x-relay-stream-id"]
        _, first = read_events(response, 4)
    rest = events_of(relay.get(f"/api/v1/streams/{stream_id}", params={"after": "4"}).text)
    events = first + rest
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert [event.json()["sequence_number"] for event in events] == list(range(len(events)))
    deltas = "".join(event.json()["delta"] for event in events if event.name == "response.output_text.delta")
    assert deltas == TEXT
    assert events[-1].name == "response.completed"


def test_an_unreachable_store_refuses_the_opt_in_with_503_and_closes_the_upstream(
    azure: Any, start_relay: Callable[..., Any]
) -> None:
    dead = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"TableEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    )
    config = {
        "backends": [azure_backend("azure-east", azure.url)],
        "models": {"azure": ["azure-east"]},
        "resumable": {"store": "table"},
    }
    server = start_relay(config, {"AzureWebJobsStorage": dead})
    response = httpx.post(f"{server.url}{CHAT_URL}", json=slow_chat(), headers={**auth(), **RESUMABLE}, timeout=30)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stream_store_unavailable"
    assert wait_for(lambda: azure.recorder.records[0].client_disconnected, seconds=2)
    plain = httpx.post(f"{server.url}{CHAT_URL}", json=slow_chat(delay_ms=0), headers=auth(), timeout=30)
    assert chat_text(events_of(plain.text)) == TEXT


def test_the_openai_sdks_read_an_opted_in_stream_with_its_ids(relay: httpx.Client) -> None:
    with openai.OpenAI(
        base_url=f"{str(relay.base_url).rstrip('/')}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0
    ) as sdk:
        prompt = inline_prompt(text=TEXT, chunks=8)
        chat = sdk.chat.completions.create(
            model="azure", messages=[{"role": "user", "content": prompt}], stream=True, extra_headers=RESUMABLE
        )
        assert "".join(chunk.choices[0].delta.content or "" for chunk in chat if chunk.choices) == TEXT
        answer = sdk.responses.create(model="azure", input=prompt, stream=True, extra_headers=RESUMABLE)
        kinds = [event.type for event in answer]
        assert kinds[-1] == "response.completed" and kinds.count("response.output_text.delta") == 8
