"""The application's telemetry: a tracer and instruments from injected providers, or nothing at all.

Providers are handed in, never taken from or set as OpenTelemetry's globals
here: the Functions worker may own the globals (:mod:`.setup` decides), and
tests build as many providers as they like in one process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from .instruments import Instruments
from .request_telemetry import RequestTelemetry
from .router_gauges import RouterView, watch_router

logger = logging.getLogger(__name__)

SCOPE = "llm-relay"
FLUSH_MILLIS = 5000


class Flushable(Protocol):
    def force_flush(self, timeout_millis: int = ...) -> Any: ...


class Telemetry:
    """Where a request's spans and metrics go; :data:`DISABLED` sends them nowhere at no cost."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        owned: tuple[Any, ...] = (),
    ) -> None:
        self.enabled = tracer_provider is not None or meter_provider is not None
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._owned = owned
        self._instruments: Instruments | None = None
        self._shut_down = False
        if self.enabled:
            from opentelemetry import metrics, trace

            tracer_source = tracer_provider or trace.NoOpTracerProvider()
            meter_source = meter_provider or metrics.NoOpMeterProvider()
            self._tracer = tracer_source.get_tracer(SCOPE)
            self._meter = meter_source.get_meter(SCOPE)
            self._instruments = Instruments.create(self._meter)

    def start_request(self, headers: Mapping[str, str]) -> RequestTelemetry | None:
        """A request's telemetry, its span's parent the client's ``traceparent``; None when telemetry is off."""
        if self._instruments is None:
            return None
        parent = propagate.extract(headers, context=otel_context.get_current())
        return RequestTelemetry(self._tracer, self._instruments, parent)

    def watch(self, router: RouterView) -> None:
        """Report ``router``'s backends as observable gauges."""
        if self._instruments is not None:
            watch_router(self._meter, router)

    def flush(self, timeout_millis: int = FLUSH_MILLIS) -> None:
        """Export what is buffered, waiting at most about ``timeout_millis`` per provider."""
        for provider in (self._tracer_provider, self._meter_provider):
            force_flush = getattr(provider, "force_flush", None)
            if force_flush is not None:
                force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: int = FLUSH_MILLIS) -> None:
        """Flush, then shut down the providers this app created (never the worker's); later calls do nothing."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            self.flush(timeout_millis)
        except Exception:
            logger.warning("telemetry flush failed at shutdown", exc_info=True)
        for provider in self._owned:
            try:
                provider.shutdown()
            except Exception:
                logger.warning("telemetry shutdown failed", exc_info=True)


DISABLED = Telemetry()
