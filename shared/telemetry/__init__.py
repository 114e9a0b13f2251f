"""OpenTelemetry for the relay: trace context, spans and metrics."""
