"""Which exporters the environment asks for: Azure Monitor, OTLP (HTTP/protobuf or gRPC), both, or none.

Each exporter library is imported only when chosen. OTLP exporters read the
rest of the standard ``OTEL_EXPORTER_OTLP_*`` settings (headers, timeouts,
certificates) themselves; this module only decides whether and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AUTHENTICATION_STRING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
OTLP_ENDPOINTS = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
PROTOCOLS = ("http/protobuf", "grpc")
SIGNAL_EXPORTERS = ("otlp", "none")


@dataclass(frozen=True)
class Exporters:
    """The span and metric exporters to run; empty when nothing is exported."""

    spans: tuple[Any, ...] = ()
    metrics: tuple[Any, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.spans or self.metrics)


def exporters_for(environ: Mapping[str, str]) -> Exporters:
    """The exporters ``environ`` configures; ``OTEL_SDK_DISABLED=true`` turns every one off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return Exporters()
    spans: list[Any] = []
    metrics: list[Any] = []
    traces_on = _signal(environ, "OTEL_TRACES_EXPORTER")
    metrics_on = _signal(environ, "OTEL_METRICS_EXPORTER")
    if environ.get(CONNECTION_STRING):
        spans_azure, metrics_azure = _azure_monitor(environ)
        spans += [spans_azure] if traces_on else []
        metrics += [metrics_azure] if metrics_on else []
    if any(environ.get(name) for name in OTLP_ENDPOINTS):
        spans += [_otlp(environ, "TRACES")] if traces_on else []
        metrics += [_otlp(environ, "METRICS")] if metrics_on else []
    return Exporters(tuple(spans), tuple(metrics))


def _signal(environ: Mapping[str, str], name: str) -> bool:
    """Whether a signal is exported: ``OTEL_TRACES_EXPORTER``/``OTEL_METRICS_EXPORTER`` may say ``none``."""
    value = environ.get(name, "otlp").strip().lower() or "otlp"
    if value not in SIGNAL_EXPORTERS:
        raise ConfigError([(name, f"must be one of {', '.join(SIGNAL_EXPORTERS)}")])
    return value != "none"


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    name = f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"
    if not environ.get(name):
        name = "OTEL_EXPORTER_OTLP_PROTOCOL"
    value = environ.get(name, "http/protobuf").strip() or "http/protobuf"
    if value not in PROTOCOLS:
        raise ConfigError([(name, f"must be one of {', '.join(PROTOCOLS)}")])
    return value


def _otlp(environ: Mapping[str, str], signal: str) -> Any:
    """One OTLP exporter for ``signal`` (TRACES or METRICS) over the configured protocol."""
    endpoint = _endpoint(environ, signal)
    if _protocol(environ, signal) == "grpc":
        if signal == "TRACES":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans

            return GrpcSpans(endpoint=endpoint)
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics

        return GrpcMetrics(endpoint=endpoint)
    if signal == "TRACES":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=endpoint)


def _endpoint(environ: Mapping[str, str], signal: str) -> str | None:
    """The signal's own endpoint as given, else the base endpoint (HTTP adds ``/v1/<signal>``); None: the default."""
    own = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    if own:
        return own
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not base:
        return None
    if _protocol(environ, signal) == "grpc":
        return base
    return f"{base.rstrip('/')}/v1/{signal.lower()}"


def _azure_monitor(environ: Mapping[str, str]) -> tuple[Any, Any]:
    """Azure Monitor's span and metric exporters, with the managed identity when Entra auth is configured."""
    from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter

    options: dict[str, Any] = {"connection_string": environ[CONNECTION_STRING]}
    credential = _credential(environ.get(AUTHENTICATION_STRING, ""))
    if credential is not None:
        options["credential"] = credential
    return AzureMonitorTraceExporter(**options), AzureMonitorMetricExporter(**options)


def _credential(authentication: str) -> Any:
    """A managed identity for ``Authorization=AAD[;ClientId=...]``; None for anything else (key-based ingestion)."""
    pairs = dict(part.split("=", 1) for part in authentication.split(";") if "=" in part)
    settings = {key.strip().lower(): value.strip() for key, value in pairs.items()}
    if settings.get("authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = settings.get("clientid")
    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
