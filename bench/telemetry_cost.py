"""CPU per delta with OpenTelemetry export off and on, side by side.

The same Azure OpenAI load as ``azure_concurrency`` runs twice through one
relay process on production's event loop: once with every exporter off, once
with traces and metrics exported over OTLP/HTTP (protobuf) to the local sink
of :mod:`.otlp_sink`. The relay reads only the standard ``OTEL_*`` variables,
so this is how an operator turns export on. The "on" row says what the sink
received, so an export that silently sends nothing shows as zero spans and
points rather than as free telemetry; a last row gives the difference.

``python -m bench.telemetry_cost --concurrency 100`` runs other shapes.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace

from . import concurrency
from .azure_concurrency import KEY, relay_config
from .concurrency import DEFAULT_SHAPE, Shape
from .processes import Server, relay_server, started_server
from .report import Row
from .stream_load import relay_target

BENCH = "telemetry"
LOOP = "asyncio"
# Production's batching, but a metric export each second so a few-second run exports several times.
EXPORT_INTERVAL_MS = 1000
OFF = {
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
}


def on(sink_url: str) -> dict[str, str]:
    """The standard variables that send traces and metrics to ``sink_url`` over OTLP/HTTP."""
    return {
        **OFF,
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_METRIC_EXPORT_INTERVAL": str(EXPORT_INTERVAL_MS),
        "OTEL_SERVICE_NAME": "relay-bench",
    }


def sink_counts(sink: Server) -> dict[str, object]:
    with urllib.request.urlopen(f"{sink.url}/counts", timeout=10) as response:
        counts: dict[str, object] = json.loads(response.read())
    return counts


def received(counts: dict[str, object]) -> dict[str, object]:
    """The sink's tallies as table figures: spans, metric points, how many metric names, and which signals arrived."""
    points = counts["metric_points"]
    assert isinstance(points, dict)
    signals = [name for name, seen in (("traces", counts["spans"]), ("metrics", sum(points.values()))) if seen]
    return {
        "sink spans": counts["spans"],
        "sink metric points": sum(points.values()),
        "sink metrics": len(points),
        "exported": "+".join(signals) or "NOTHING",
    }


def measured(emulator: Server, env: dict[str, str], shape: Shape, case: str) -> Row:
    with relay_server(relay_config(emulator.url), {**KEY, **env}, LOOP) as relay:
        target = relay_target(relay.url, "azure", shape.chunks, shape.delay_ms)
        return replace(concurrency.relay_row(BENCH, case, target, shape, relay, emulator), loop=LOOP)


def run(shape: Shape = DEFAULT_SHAPE, direct: bool = True) -> list[Row]:
    """Off, then on, then the difference in the relay's CPU per delta. ``direct`` is unused (no baseline here)."""
    emulator_process = started_server("devtools.emulators.azure_openai", [])
    with emulator_process as emulator, started_server("bench.otlp_sink", []) as sink:
        off = measured(emulator, OFF, shape, f"export off, {shape}")
        during_off = received(sink_counts(sink))
        exporting = measured(emulator, on(sink.url), shape, f"export on (OTLP/HTTP), {shape}")
        # Read after the relay stopped, so its shutdown flush counts too.
        on_row = replace(exporting, figures={**exporting.figures, **received(sink_counts(sink))})
    off_row = replace(off, figures={**off.figures, **during_off})
    return [off_row, on_row, difference(off_row, on_row)]


def difference(off: Row, on: Row) -> Row:
    """How much more relay CPU each delta cost with export on."""
    before, after = off.figures["relay µs/delta"], on.figures["relay µs/delta"]
    assert isinstance(before, float) and isinstance(after, float)
    change = round((after - before) / before * 100, 1) if before else float("nan")
    return Row(BENCH, "export on vs off", {"relay µs/delta": round(after - before, 1), "change %": change}, LOOP)


if __name__ == "__main__":
    concurrency.main(__doc__.splitlines()[0], run)
