"""The bench's OTLP sink counts what the real OpenTelemetry exporters send, so "export on" is checked."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from bench.processes import Server, started_server
from bench.telemetry_cost import received

pytestmark = pytest.mark.timeout(60)


def counts(sink: Server) -> dict[str, Any]:
    with urllib.request.urlopen(f"{sink.url}/counts", timeout=10) as response:
        return dict(json.loads(response.read()))


def send_spans(sink: Server, names: list[str], compression: Compression) -> None:
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{sink.url}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for name in names:
        provider.get_tracer("bench-test").start_span(name).end()
    provider.shutdown()


def send_metrics(sink: Server) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("bench-test")
    meter.create_counter("relay.requests").add(1, {"relay.outcome": "ok"})
    meter.create_counter("relay.requests").add(1, {"relay.outcome": "rate_limited"})
    meter.create_histogram("gen_ai.client.token.usage").record(12, {"gen_ai.token.type": "input"})
    data = reader.get_metrics_data()
    assert data is not None
    assert OTLPMetricExporter(endpoint=f"{sink.url}/v1/metrics").export(data).name == "SUCCESS"
    provider.shutdown()


def test_the_sink_counts_spans_sent_plain_and_gzipped_and_starts_again_after_a_read() -> None:
    with started_server("bench.otlp_sink", []) as sink:
        send_spans(sink, ["a", "b"], Compression.NoCompression)
        send_spans(sink, ["c"], Compression.Gzip)
        first = counts(sink)
        second = counts(sink)
    assert first["spans"] == 3
    assert first["posts"] == {"/v1/traces": 3}
    assert received(first)["exported"] == "traces"
    assert second == {"posts": {}, "spans": 0, "metric_points": {}}
    assert received(second)["exported"] == "NOTHING"


def test_the_sink_counts_metric_points_by_name() -> None:
    with started_server("bench.otlp_sink", []) as sink:
        send_metrics(sink)
        tally = counts(sink)
    assert tally["metric_points"] == {"relay.requests": 2, "gen_ai.client.token.usage": 1}
    assert received(tally) == {
        "sink spans": 0,
        "sink metric points": 3,
        "sink metrics": 2,
        "exported": "metrics",
    }
