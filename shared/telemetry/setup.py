"""Telemetry for this process, built once from the environment when the application is built.

The Azure Functions Python worker may have configured OpenTelemetry's global
providers before it imported the app (``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY``
makes it call the Azure Monitor distro during its init request). Those are
reused, never configured twice. Otherwise the app builds its own providers,
exporting through its own batch span processor and periodic metric reader,
so the records of a stream that ends after the function returned still leave;
they are flushed at exit, and on SIGTERM, within a bounded time (:mod:`.exit_flush`). With no exporter configured
the relay gets :data:`~.telemetry.DISABLED` and does no telemetry work at all.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry import metrics, trace

from .exit_flush import flush_at_exit
from .exporters import Exporters, exporters_for
from .telemetry import DISABLED, Telemetry

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_NAME = "llm-relay"
CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# Unset providers are proxies (or no-ops); anything else was set by someone: the worker, or its distro.
UNSET_PROVIDERS = frozenset({"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider", "NoOpMeterProvider"})
EXIT_FLUSH_MILLIS = 3000


def telemetry_from_environment(environ: Mapping[str, str], *, at_exit: bool = True) -> Telemetry:
    """The worker's providers if it set them, else the configured exporters' own, else :data:`DISABLED`."""
    if environ.get(CAPTURE_CONTENT, "").strip().lower() == "true":
        logger.warning("%s is not supported: the relay never records prompt or completion content", CAPTURE_CONTENT)
    worker = _worker_telemetry()
    if worker is not None:
        return worker
    exporters = exporters_for(environ)
    if not exporters:
        return DISABLED
    telemetry = _own_telemetry(exporters, environ)
    if at_exit:
        flush_at_exit(functools.partial(telemetry.shutdown, EXIT_FLUSH_MILLIS))
    return telemetry


def _worker_telemetry() -> Telemetry | None:
    tracer_provider, meter_provider = trace.get_tracer_provider(), metrics.get_meter_provider()
    traced, metered = _is_set(tracer_provider), _is_set(meter_provider)
    if not (traced or metered):
        return None
    logger.info("telemetry: using the OpenTelemetry providers the Functions worker configured")
    return Telemetry(tracer_provider if traced else None, meter_provider if metered else None)


def _is_set(provider: object) -> bool:
    return type(provider).__name__ not in UNSET_PROVIDERS


def _own_telemetry(exporters: Exporters, environ: Mapping[str, str]) -> Telemetry:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME})
    owned: list[Any] = []
    tracer_provider = None
    if exporters.spans:
        tracer_provider = TracerProvider(resource=resource)
        for exporter in exporters.spans:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
        owned.append(tracer_provider)
    meter_provider = None
    if exporters.metrics:
        readers = [PeriodicExportingMetricReader(exporter) for exporter in exporters.metrics]
        meter_provider = MeterProvider(metric_readers=readers, resource=resource)
        owned.append(meter_provider)
    return Telemetry(tracer_provider, meter_provider, owned=tuple(owned))
