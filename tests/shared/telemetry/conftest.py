"""Telemetry fixtures: relays reporting to in-memory SDK exporters, and a local OTLP/HTTP receiver.

Providers are handed to the application (``Application.with_telemetry``),
never set as OpenTelemetry's globals, so each test gets its own. Everything
exported is scanned by the suite's secret guard.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.local_host import APP_ROOT, build_asgi_app, function_app_of, import_app_module, route_prefix
from devtools.threaded_server import ThreadedServer
from shared.telemetry.telemetry import Telemetry
from tests.builders import AZURE_TEST_KEY, TEST_AUTH, RelayServer, azure_backend, patched_environ
from tests.polling import wait_for
from tests.secret_guard import ScanResponses, scan_telemetry


@dataclass
class Recorded:
    """What one test's relay exported, read from the SDK's in-memory exporter and reader."""

    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    telemetry: Telemetry
    tracer_provider: TracerProvider

    def spans(self) -> list[ReadableSpan]:
        spans = list(self.spans_exporter.get_finished_spans())
        scan_telemetry(spans, "an exported span")
        return spans

    def server_spans(self, count: int = 1) -> list[ReadableSpan]:
        """The SERVER spans, once ``count`` have ended (the relay ends them on its own thread)."""
        assert wait_for(lambda: len(self._servers()) >= count), f"fewer than {count} server spans ended"
        return self._servers()

    def _servers(self) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.kind.name == "SERVER"]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        assert parent.context is not None
        return [span for span in self.spans() if span.parent and span.parent.span_id == parent.context.span_id]

    def metrics(self) -> dict[str, Metric]:
        data = self.reader.get_metrics_data()
        if data is None:
            return {}
        scan_telemetry([data], "exported metrics")
        return {
            metric.name: metric
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry = Telemetry(tracer_provider, meter_provider, owned=(tracer_provider, meter_provider))
    record = Recorded(exporter, reader, telemetry, tracer_provider)
    yield record
    record.spans()
    record.metrics()
    telemetry.shutdown()


def host_with_telemetry(config: dict[str, Any], telemetry: Telemetry | None, environ: dict[str, str]) -> RelayServer:
    """Like ``tests.builders.host_relay``, with ``telemetry`` handed to the application when given."""
    values = {"RELAY_CONFIG": json.dumps({"auth": TEST_AUTH, **config}), "AZURE_TEST_KEY": AZURE_TEST_KEY, **environ}
    with patched_environ(values):
        module = import_app_module(APP_ROOT / "function_app.py")
    if telemetry is not None:
        module.application = module.application.with_telemetry(telemetry)
    app = build_asgi_app(function_app_of(module), route_prefix(APP_ROOT / "host.json"))
    return RelayServer(ScanResponses(app), module.application).start()


def two_azure_config(emulator: AzureOpenAIEmulator, **routing: Any) -> dict[str, Any]:
    """Alias ``azure``: ``azure-first`` (tried first), then ``azure-second``."""
    return {
        "backends": [
            azure_backend("azure-first", emulator.url, priority=1),
            azure_backend("azure-second", emulator.url, priority=2),
        ],
        "models": {"azure": ["azure-first", "azure-second"]},
        **({"routing": routing} if routing else {}),
    }


@pytest.fixture
def telemetry_relay(azure: AzureOpenAIEmulator, recorded: Recorded) -> Iterator[Callable[..., str]]:
    """Start a relay (two Azure backends by default) reporting to ``recorded``; returns its URL."""
    servers: list[RelayServer] = []

    def start(config: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> str:
        server = host_with_telemetry(config or two_azure_config(azure), recorded.telemetry, environ or {})
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@dataclass
class OtlpReceiver:
    """Decoded OTLP/HTTP export requests, as a collector would receive them."""

    traces: list[ExportTraceServiceRequest] = field(default_factory=list)
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def spans(self) -> list[Any]:
        with self.lock:
            return [
                span
                for request in self.traces
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
            ]

    def metric_names(self) -> set[str]:
        with self.lock:
            return {
                metric.name
                for request in self.metrics
                for resource in request.resource_metrics
                for scope in resource.scope_metrics
                for metric in scope.metrics
            }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        if headers.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        answer = self._decode(scope["path"], body)
        status = 200 if answer is not None else 404
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/x-protobuf")]}
        )
        await send({"type": "http.response.body", "body": answer or b""})

    def _decode(self, path: str, body: bytes) -> bytes | None:
        if path == "/v1/traces":
            traces = ExportTraceServiceRequest.FromString(body)
            scan_telemetry([traces], "an OTLP trace export")
            with self.lock:
                self.traces.append(traces)
            return ExportTraceServiceResponse().SerializeToString()
        if path == "/v1/metrics":
            metrics = ExportMetricsServiceRequest.FromString(body)
            scan_telemetry([metrics], "an OTLP metrics export")
            with self.lock:
                self.metrics.append(metrics)
            return ExportMetricsServiceResponse().SerializeToString()
        return None


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A local OTLP/HTTP (protobuf) receiver on a free port."""
    receiver = OtlpReceiver()
    server = ThreadedServer(receiver).start()
    receiver.url = server.url
    yield receiver
    server.stop()
