"""A local OTLP/HTTP receiver that counts what it is sent and keeps nothing: ``python -m bench.otlp_sink --port N``.

``make bench`` measures the relay with telemetry exported, and an export that
silently goes nowhere would make "on" look as cheap as "off". So the sink
decodes each protobuf post (traces and metrics) and counts spans and metric
data points by name; ``GET /counts`` returns the tallies since the last
``GET`` as JSON, so one sink serves runs one after another. It runs in
its own process so its decoding is charged to neither the relay nor the client.
"""

from __future__ import annotations

import argparse
import gzip
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

POINT_KINDS = ("sum", "gauge", "histogram", "exponential_histogram", "summary")


class Tally:
    """What arrived so far: posts per path, spans, and data points per metric name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.posts: Counter[str] = Counter()
        self.spans = 0
        self.points: Counter[str] = Counter()

    def add(self, path: str, body: bytes) -> None:
        spans, points = _decode(path, body)
        with self._lock:
            self.posts[path] += 1
            self.spans += spans
            self.points.update(points)

    def take(self) -> dict[str, Any]:
        """The tallies so far, starting new ones."""
        with self._lock:
            taken = {"posts": dict(self.posts), "spans": self.spans, "metric_points": dict(self.points)}
            self.posts, self.spans, self.points = Counter(), 0, Counter()
            return taken


def _decode(path: str, body: bytes) -> tuple[int, Counter[str]]:
    """Spans and metric data points in one export request; other signals are only counted as posts."""
    points: Counter[str] = Counter()
    if path == "/v1/traces":
        traces = ExportTraceServiceRequest.FromString(body)
        spans = sum(len(scope.spans) for resource in traces.resource_spans for scope in resource.scope_spans)
        return spans, points
    if path == "/v1/metrics":
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    points[metric.name] += len(getattr(metric, kind).data_points) if kind in POINT_KINDS else 0
    return 0, points


def handler(tally: Tally) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            tally.add(self.path, body)
            # An empty Export*ServiceResponse: full success, nothing partially rejected.
            self._answer(b"", "application/x-protobuf")

        def do_GET(self) -> None:
            self._answer(json.dumps(tally.take()).encode(), "application/json")

        def _answer(self, payload: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """One line per export would be noise in the bench's output."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler(Tally())).serve_forever()


if __name__ == "__main__":
    main()
