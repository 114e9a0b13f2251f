"""OpenTelemetry for the relay: GenAI metrics and traces, exported by the app itself.

The pure core (relay, streaming stages) talks only to :mod:`.api`, which
imports nothing from OpenTelemetry. :mod:`.request_telemetry` and
:mod:`.telemetry` use the OpenTelemetry *API* alone; the SDK and the
exporters are imported by :mod:`.setup`, only when something is exported.
"""
