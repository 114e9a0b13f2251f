"""W3C trace context: taken from the client, handed on to every upstream.

Only ``traceparent`` and ``tracestate`` cross the relay. ``baggage`` is not
forwarded: it is free-form client data, and an upstream is a third party.
This works with no OpenTelemetry SDK configured: the API's default
propagator still extracts a client's context and injects it again, so the
upstream sees the client's trace id even when the relay records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace

TRACE_HEADERS = ("traceparent", "tracestate")


def upstream_trace_headers() -> dict[str, str]:
    """The current context's ``traceparent`` and ``tracestate``; empty when there is no valid span context."""
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {name: carrier[name] for name in TRACE_HEADERS if name in carrier}


@contextmanager
def client_trace_context(headers: Mapping[str, str]) -> Iterator[None]:
    """Make the client's ``traceparent`` (if valid) the current context for the block.

    A missing or malformed header leaves the current context as it is. The
    server span, when there is one, is started inside this block, so the
    client's span becomes its parent.
    """
    extracted = propagate.extract({name: headers[name] for name in TRACE_HEADERS if name in headers})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        yield
        return
    token = context.attach(extracted)
    try:
        yield
    finally:
        context.detach(token)
