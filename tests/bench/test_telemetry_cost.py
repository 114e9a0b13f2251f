"""The telemetry benchmark runs end to end on a tiny load and reports what its sink received for each row."""

from __future__ import annotations

import pytest

from bench.concurrency import Shape
from bench.telemetry_cost import OFF, on, run

pytestmark = pytest.mark.timeout(120)


def test_both_rows_stream_every_delta_and_say_what_the_sink_received() -> None:
    off, exporting, difference = run(Shape(concurrency=4, chunks=3, delay_ms=0))
    for row in (off, exporting):
        assert row.figures["ok"] == 4 and row.figures["errors"] == 0
        assert {"sink spans", "sink metric points", "exported"} <= set(row.figures)
        assert row.loop == "asyncio"
    assert off.figures["exported"] == "NOTHING" and off.figures["sink spans"] == 0
    assert difference.case == "export on vs off" and "change %" in difference.figures


def test_on_names_the_sink_and_otlp_http_for_traces_and_metrics_and_off_turns_every_exporter_off() -> None:
    assert {OFF[name] for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER")} == {"none"}
    variables = on("http://sink.test:4318")
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://sink.test:4318"
    assert variables["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert variables["OTEL_TRACES_EXPORTER"] == variables["OTEL_METRICS_EXPORTER"] == "otlp"
