"""W3C trace context from the client reaches every upstream, with no OpenTelemetry SDK configured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.vertex import VertexEmulator
from shared.telemetry.propagation import client_trace_context, upstream_trace_headers
from tests.builders import BEDROCK_MODEL, RELAY_TEST_KEY, serve_cross_provider_relay

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-01"
ALIASES = ("azure", "bedrock", "vertex", "vertex-native")


@pytest.fixture
def remote_parent() -> Iterator[SpanContext]:
    """A remote span context made current for the test, as an extracted client header would be."""
    parent = SpanContext(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "opaque")]),
    )
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        yield parent
    finally:
        context.detach(token)


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace-id field of a ``traceparent`` header."""
    return traceparent.split("-")[1] if traceparent else None


def test_no_current_span_means_no_headers() -> None:
    assert upstream_trace_headers() == {}


def test_current_span_context_becomes_traceparent_and_tracestate(remote_parent: SpanContext) -> None:
    assert upstream_trace_headers() == {"traceparent": TRACEPARENT, "tracestate": "vendor=opaque"}


def test_baggage_is_never_handed_to_an_upstream(remote_parent: SpanContext) -> None:
    from opentelemetry import baggage

    token = context.attach(baggage.set_baggage("user", "alice@example.com"))
    try:
        assert set(upstream_trace_headers()) == {"traceparent", "tracestate"}
    finally:
        context.detach(token)


def test_client_context_is_current_inside_the_block_only() -> None:
    with client_trace_context({"traceparent": TRACEPARENT, "tracestate": "a=1"}):
        assert upstream_trace_headers() == {"traceparent": TRACEPARENT, "tracestate": "a=1"}
    assert upstream_trace_headers() == {}


@pytest.mark.parametrize(
    "header",
    [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id is invalid
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id is invalid
        "not a traceparent",
        "",
    ],
)
def test_invalid_client_header_leaves_the_context_alone(header: str, remote_parent: SpanContext) -> None:
    with client_trace_context({"traceparent": header}):
        assert upstream_trace_headers()["traceparent"] == TRACEPARENT


def test_no_client_header_is_no_context() -> None:
    with client_trace_context({"content-type": "application/json"}):
        assert upstream_trace_headers() == {}


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("stream", [True, False])
def test_client_traceparent_reaches_every_provider(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str, stream: bool
) -> None:
    headers = {"traceparent": TRACEPARENT, "tracestate": "client=1"}
    request = every_provider_sdk.chat.completions.with_raw_response.create(
        model=alias, messages=[{"role": "user", "content": "hi"}], stream=stream, extra_headers=headers
    )
    parsed = request.parse()
    assert list(parsed) if stream else parsed.choices
    emulator = alias_emulators[alias]
    # Every model request counts: Vertex sends a request again after a rejected token.
    recorded = [record.traceparent for record in emulator.recorder.records]
    logged = [record["traceparent"] for record in httpx.get(f"{emulator.url}/_emulator/requests").json()["requests"]]
    assert recorded and logged == recorded
    assert {trace_id_of(traceparent) for traceparent in recorded} == {f"{TRACE_ID:032x}"}


@pytest.mark.parametrize("alias", ALIASES)
def test_malformed_client_traceparent_is_not_forwarded(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    malformed = "00-zz-not-hex-01"
    completion = every_provider_sdk.chat.completions.create(
        model=alias, messages=[{"role": "user", "content": "hi"}], extra_headers={"traceparent": malformed}
    )
    assert completion.choices[0].message.content
    records = alias_emulators[alias].recorder.records
    assert records and all(record.traceparent != malformed for record in records)


@pytest.fixture
def failover_relay(azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator) -> Iterator[str]:
    with serve_cross_provider_relay(azure, bedrock, vertex, "native") as url:
        yield url


def test_every_attempt_of_a_failover_carries_the_client_trace(
    failover_relay: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator
) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    bedrock.book.set(BEDROCK_MODEL, {"status": 503})
    with openai.OpenAI(base_url=f"{failover_relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="chat", messages=[{"role": "user", "content": "hi"}], extra_headers={"traceparent": TRACEPARENT}
        )
    assert raw.headers["x-relay-attempts"] == "3"
    records = [*azure.recorder.records, *bedrock.recorder.records, *vertex.recorder.records]
    assert [trace_id_of(record.traceparent) for record in records] == [f"{TRACE_ID:032x}"] * 3
