"""Which exporters the environment switches on, and that nothing is built when none is configured."""

from __future__ import annotations

import pytest
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from shared.errors import ConfigError
from shared.telemetry import exporters as exporters_module
from shared.telemetry.exporters import exporters_for
from shared.telemetry.setup import telemetry_from_environment
from shared.telemetry.telemetry import DISABLED

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
AZURE = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"


def test_with_nothing_configured_telemetry_is_off_and_starts_no_request_work() -> None:
    telemetry = telemetry_from_environment({}, at_exit=False)
    assert telemetry is DISABLED
    assert telemetry.start_request({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}) is None


def test_an_otlp_endpoint_exports_traces_and_metrics_over_http_protobuf() -> None:
    chosen = exporters_for(ENDPOINT)
    assert [type(exporter) for exporter in chosen.spans] == [OTLPSpanExporter]
    assert [type(exporter) for exporter in chosen.metrics] == [OTLPMetricExporter]
    telemetry = telemetry_from_environment(ENDPOINT, at_exit=False)
    assert telemetry.enabled and telemetry.start_request({}) is not None
    telemetry.shutdown(timeout_millis=100)


def test_grpc_is_chosen_by_the_protocol_variable() -> None:
    chosen = exporters_for({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert [type(exporter) for exporter in chosen.spans] == [GrpcSpanExporter]


def test_a_signal_set_to_none_is_not_exported() -> None:
    chosen = exporters_for({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"})
    assert chosen.spans == () and len(chosen.metrics) == 1


def test_otel_sdk_disabled_turns_every_exporter_off() -> None:
    assert not exporters_for({**ENDPOINT, "APPLICATIONINSIGHTS_CONNECTION_STRING": AZURE, "OTEL_SDK_DISABLED": "true"})


@pytest.mark.parametrize(
    ("name", "value"), [("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"), ("OTEL_METRICS_EXPORTER", "prometheus")]
)
def test_an_unsupported_choice_is_a_config_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        exporters_for({**ENDPOINT, name: value})
    assert [path for path, _ in raised.value.problems] == [name]
    assert value not in str(raised.value)


def test_application_insights_uses_the_managed_identity_the_template_configures() -> None:
    environ = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": AZURE,
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD",
    }
    chosen = exporters_for(environ)
    assert [type(exporter).__name__ for exporter in chosen.spans] == ["AzureMonitorTraceExporter"]
    assert [type(exporter).__name__ for exporter in chosen.metrics] == ["AzureMonitorMetricExporter"]
    credential = exporters_module._credential(environ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"])
    assert type(credential).__name__ == "ManagedIdentityCredential"
    assert exporters_module._credential("") is None


def test_providers_the_worker_already_set_are_reused_not_configured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    worker_tracing, worker_metrics = TracerProvider(), MeterProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: worker_tracing)
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: worker_metrics)
    telemetry = telemetry_from_environment(ENDPOINT, at_exit=False)
    assert telemetry._tracer_provider is worker_tracing
    assert telemetry._meter_provider is worker_metrics
    assert telemetry._owned == ()
    worker_tracing.shutdown()
    worker_metrics.shutdown()
