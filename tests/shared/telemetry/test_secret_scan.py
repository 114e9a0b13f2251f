"""The secret guard scans exported telemetry: a registered secret in a span attribute is a leak."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.secret_guard import GUARD, register_secret, scan_telemetry

CANARY = register_secret("telemetry-canary-5e4d3c2b1a", "TELEMETRY_CANARY")


def test_a_secret_in_an_exported_span_is_reported_by_label() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("test").start_span("leaky", attributes={"note": f"x{CANARY}x"}).end()
    scan_telemetry(exporter.get_finished_spans(), "an exported span")
    leaks = GUARD.take_leaks()
    provider.shutdown()
    assert leaks == ["secret 'TELEMETRY_CANARY' appeared in an exported span"]
