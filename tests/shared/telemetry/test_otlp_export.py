"""Real export: a relay configured only by the standard OTEL_* variables sends OTLP/HTTP protobuf to a receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from tests.builders import AUTH_HEADERS, RelayServer
from tests.polling import wait_for
from tests.shared.telemetry.conftest import OtlpReceiver, host_with_telemetry, two_azure_config

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture
def exporting_relay(azure: AzureOpenAIEmulator, otlp_receiver: OtlpReceiver) -> Iterator[RelayServer]:
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url, "OTEL_SERVICE_NAME": "relay-under-test"}
    server = host_with_telemetry(two_azure_config(azure), None, environ)
    yield server
    server.stop()
    server.relay.telemetry.shutdown(timeout_millis=2000)


def test_spans_and_metrics_leave_over_otlp_http_after_the_stream_ends(
    exporting_relay: RelayServer, otlp_receiver: OtlpReceiver
) -> None:
    assert exporting_relay.relay.telemetry.enabled
    with httpx.Client(base_url=exporting_relay.url, headers=AUTH_HEADERS, timeout=30) as http:
        payload = {"model": "azure", "messages": MESSAGES, "stream": True}
        with http.stream("POST", "/api/v1/chat/completions", json=payload) as response:
            assert "data: [DONE]" in list(response.iter_lines())
    # Nothing flushes on the request's path: the batch processor exports on its own schedule, or on flush.
    exporting_relay.relay.telemetry.flush(timeout_millis=5000)
    assert wait_for(lambda: any(span.name == "chat azure" for span in otlp_receiver.spans()))
    names = {span.name: span for span in otlp_receiver.spans()}
    assert names["chat azure"].kind == 2  # SPAN_KIND_SERVER
    assert names["chat azure-first"].kind == 3  # SPAN_KIND_CLIENT
    assert names["chat azure-first"].parent_span_id == names["chat azure"].span_id
    service = {
        attribute.value.string_value
        for request in otlp_receiver.traces
        for resource in request.resource_spans
        for attribute in resource.resource.attributes
        if attribute.key == "service.name"
    }
    assert service == {"relay-under-test"}
    assert wait_for(lambda: "gen_ai.client.operation.duration" in otlp_receiver.metric_names())
    assert {"gen_ai.client.token.usage", "relay.requests", "relay.router.backends"} <= otlp_receiver.metric_names()
