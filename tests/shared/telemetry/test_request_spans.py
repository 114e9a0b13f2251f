"""Span structure per request, over real HTTP with the real SDK: one SERVER span, one CLIENT span per attempt."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import httpx
import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS, RELAY_TEST_KEY
from tests.polling import wait_for
from tests.shared.telemetry.conftest import Recorded, two_azure_config

MESSAGES = [{"role": "user", "content": "hello"}]
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0)


def stream_text(url: str) -> str:
    with sdk(url) as client:
        stream = client.chat.completions.create(model="azure", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_a_streamed_request_is_one_server_span_with_one_attempt_child(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    assert stream_text(telemetry_relay())
    [server] = recorded.server_spans()
    assert server.name == "chat azure"
    assert server.kind is SpanKind.SERVER
    attributes = dict(server.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert attributes["gen_ai.request.model"] == "azure"
    assert attributes["gen_ai.response.model"] == "azure-first"
    assert attributes["relay.backend"] == "azure-first"
    assert attributes["relay.client"] == "key:tests"
    assert attributes["relay.outcome"] == "ok"
    assert attributes["relay.attempts"] == 1
    assert attributes["relay.output_chunks"] > 1
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > 0
    assert "error.type" not in attributes
    assert [event.name for event in server.events] == ["relay.first_token"]
    [attempt] = recorded.children(server)
    assert (attempt.name, attempt.kind) == ("chat azure-first", SpanKind.CLIENT)
    assert attempt.status.status_code is not StatusCode.ERROR
    assert attempt.end_time is not None and server.end_time is not None
    assert attempt.end_time <= server.end_time


def test_failover_shows_as_two_attempt_spans_the_failed_one_with_its_error_type(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("azure-first", {"status": 500})
    assert stream_text(telemetry_relay())
    [server] = recorded.server_spans()
    first, second = sorted(recorded.children(server), key=lambda span: span.start_time or 0)
    assert dict(first.attributes or {})["relay.backend"] == "azure-first"
    assert first.status.status_code is StatusCode.ERROR
    assert dict(first.attributes or {})["error.type"]
    assert dict(second.attributes or {})["relay.backend"] == "azure-second"
    assert "error.type" not in dict(second.attributes or {})
    assert dict(server.attributes or {})["relay.attempts"] == 2
    assert dict(server.attributes or {})["relay.backend"] == "azure-second"


def test_a_429_records_the_cooldown_as_an_event_on_the_server_span(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    assert stream_text(telemetry_relay())
    [server] = recorded.server_spans()
    [event] = [event for event in server.events if event.name == "relay.backend.unavailable"]
    assert dict(event.attributes or {}) == {
        "relay.backend": "azure-first",
        "relay.backend.state": "cooling_down",
        "error.type": "rate_limit_exceeded",
    }


def test_a_mid_stream_error_ends_the_spans_in_error_with_the_relay_error_code(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("*", {"chunks": 8, "error_after": 5})
    with httpx.Client(base_url=telemetry_relay(), headers=AUTH_HEADERS, timeout=30) as http:
        body = http.post("/api/v1/chat/completions", json={"model": "azure", "messages": MESSAGES, "stream": True})
    assert '"error"' in body.text
    [server] = recorded.server_spans()
    attributes = dict(server.attributes or {})
    assert server.status.status_code is StatusCode.ERROR
    assert attributes["error.type"] == attributes["relay.outcome"] != "ok"
    [attempt] = recorded.children(server)
    assert dict(attempt.attributes or {})["error.type"] == attributes["error.type"]


def test_a_client_that_leaves_mid_stream_ends_the_span_as_client_disconnected(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("*", {"chunks": 50, "delay_ms": 200})
    with httpx.Client(base_url=telemetry_relay(), headers=AUTH_HEADERS, timeout=30) as http:
        payload = {"model": "azure", "messages": MESSAGES, "stream": True}
        with http.stream("POST", "/api/v1/chat/completions", json=payload) as response:
            next(response.iter_lines())
    [server] = recorded.server_spans()
    assert dict(server.attributes or {})["relay.outcome"] == "client_disconnected"
    assert dict(server.attributes or {})["error.type"] == "client_disconnected"


def test_a_non_streaming_request_has_the_same_span_structure(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    with sdk(telemetry_relay()) as client:
        completion = client.chat.completions.create(model="azure", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content
    [server] = recorded.server_spans()
    assert dict(server.attributes or {})["relay.stream"] is False
    assert dict(server.attributes or {})["relay.outcome"] == "ok"
    assert len(recorded.children(server)) == 1


def test_the_clients_traceparent_is_the_server_spans_parent(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    headers = {**AUTH_HEADERS, "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}
    with httpx.Client(base_url=telemetry_relay(), headers=headers, timeout=30) as http:
        http.post("/api/v1/chat/completions", json={"model": "azure", "messages": MESSAGES}).raise_for_status()
    [server] = recorded.server_spans()
    assert server.context is not None and server.parent is not None
    assert format(server.context.trace_id, "032x") == CLIENT_TRACE
    assert format(server.parent.span_id, "016x") == CLIENT_SPAN


def test_a_refused_request_still_ends_its_span_with_the_error(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    with httpx.Client(base_url=telemetry_relay(), headers=AUTH_HEADERS, timeout=30) as http:
        response = http.post("/api/v1/chat/completions", json={"model": "nope", "messages": MESSAGES})
    assert response.status_code == 404
    [server] = recorded.server_spans()
    assert dict(server.attributes or {})["error.type"] == "model_not_found"
    assert recorded.children(server) == []


def test_the_span_of_a_stream_that_outlives_its_function_ends_with_the_stream(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("*", {"chunks": 6, "delay_ms": 100})
    with httpx.Client(base_url=telemetry_relay(), headers=AUTH_HEADERS, timeout=30) as http:
        payload = {"model": "azure", "messages": MESSAGES, "stream": True}
        with http.stream("POST", "/api/v1/chat/completions", json=payload) as response:
            returned_at = time.time_ns()  # the function has returned its StreamingResponse: headers are here
            assert recorded.spans() == [] or all(span.kind is not SpanKind.SERVER for span in recorded.spans())
            lines = list(response.iter_lines())
    assert "data: [DONE]" in lines
    [server] = recorded.server_spans()
    assert server.end_time is not None and server.end_time > returned_at
    assert dict(server.attributes or {})["relay.outcome"] == "ok"


def test_the_request_log_line_carries_the_trace_id(
    telemetry_relay: Callable[..., str], recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="relay.requests"):
        stream_text(telemetry_relay())
        [server] = recorded.server_spans()
        assert wait_for(lambda: any(record.name == "relay.requests" for record in caplog.records))
    [line] = [json.loads(record.getMessage()) for record in caplog.records if record.name == "relay.requests"]
    assert server.context is not None
    assert line["trace_id"] == format(server.context.trace_id, "032x")


def test_a_telemetry_failure_never_breaks_the_stream(
    telemetry_relay: Callable[..., str], recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.telemetry.request_telemetry import RequestTelemetry

    def broken(self: RequestTelemetry, record: object) -> None:
        raise RuntimeError("exporter on fire")

    monkeypatch.setattr(RequestTelemetry, "finish", broken)
    with httpx.Client(base_url=telemetry_relay(), headers=AUTH_HEADERS, timeout=30) as http:
        response = http.post("/api/v1/chat/completions", json={"model": "azure", "messages": MESSAGES})
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"]


def test_each_upstream_is_sent_the_trace_of_its_own_attempt_span(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    """With export on, each backend is sent the traceparent of its own attempt's CLIENT span, in the client's trace."""
    azure.book.set("azure-first", {"status": 500})
    headers = {**AUTH_HEADERS, "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}
    with httpx.Client(base_url=telemetry_relay(), headers=headers, timeout=30) as http:
        http.post("/api/v1/chat/completions", json={"model": "azure", "messages": MESSAGES}).raise_for_status()
    [server] = recorded.server_spans()
    attempts = sorted(recorded.children(server), key=lambda span: span.start_time or 0)
    sent = [record.traceparent for record in azure.recorder.records]
    expected = [f"00-{CLIENT_TRACE}-{format(span.context.span_id, '016x')}-01" for span in attempts if span.context]
    assert len(attempts) == 2 and sent == expected


def test_each_heartbeat_sent_is_an_event_on_the_server_span(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    """A quiet upstream's keep-alives show on the request's span, between its first token and its end."""
    config = {**two_azure_config(azure), "stream": {"heartbeat_seconds": 0.1}}
    with sdk(telemetry_relay(config)) as client:
        prompt = inline_prompt(chunks=3, delay_ms=450)
        stream = client.chat.completions.create(
            model="azure", messages=[{"role": "user", "content": prompt}], stream=True
        )
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    [server] = recorded.server_spans()
    names = [event.name for event in server.events]
    heartbeats = names.count("relay.heartbeat")
    assert heartbeats >= 2 and heartbeats == dict(server.attributes or {})["relay.heartbeats"]


def test_cached_prompt_tokens_are_on_the_server_span(telemetry_relay: Callable[..., str], recorded: Recorded) -> None:
    prompt = inline_prompt(prompt_tokens=30, completion_tokens=4, cached_tokens=12)
    with sdk(telemetry_relay()) as client:
        client.chat.completions.create(model="azure", messages=[{"role": "user", "content": prompt}])
    [server] = recorded.server_spans()
    attributes = dict(server.attributes or {})
    assert attributes["gen_ai.usage.input_tokens"] == 30
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 12
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == 0
