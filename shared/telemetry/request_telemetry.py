"""One request's server span, its attempt spans and, when the stream ends, its metrics.

The server span starts when the request arrives and ends in :meth:`finish`,
which the request record calls when the stream ends: after the function
returned its streaming response, not when it returned. Nothing here runs per
chunk: chunk counts and first-token times are kept by the request record and
read once at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from . import conventions as c
from .instruments import Instruments

if TYPE_CHECKING:
    from ..providers.contract import BackendSettings
    from ..streaming.request_record import RequestTrace

OK = "ok"
Attributes = dict[str, AttributeValue]


def configured_model(backend: BackendSettings) -> str | None:
    """The model or deployment a backend's settings name: what the relay asked that backend for."""
    for field in c.MODEL_FIELDS:
        value = getattr(backend, field, None)
        if isinstance(value, str):
            return value
    return None


class AttemptSpan:
    """A CLIENT span for one upstream attempt, current while the backend opens."""

    def __init__(self, request: RequestTelemetry, backend: BackendSettings) -> None:
        self._request = request
        self._backend = backend.name
        self.model = configured_model(backend)
        self.provider = c.provider_name(backend.provider)
        attributes: Attributes = {c.OPERATION_NAME: c.CHAT, c.PROVIDER_NAME: self.provider, c.BACKEND: backend.name}
        if self.model:
            attributes[c.REQUEST_MODEL] = self.model
        self.span = request.tracer.start_span(
            f"{c.CHAT} {self.model or backend.name}",
            context=trace.set_span_in_context(request.span),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._token: object | None = None
        self._committed = False
        self._failed = False

    def __enter__(self) -> AttemptSpan:
        self._token = otel_context.attach(trace.set_span_in_context(self.span))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self._token = None
        if error is not None and not self._failed:
            self.fail(getattr(error, "code", None) or type(error).__name__)
        if not self._committed:
            self.span.end()

    def fail(self, error_type: str, backend_state: str | None = None) -> None:
        self._failed = True
        self.span.set_attribute(c.ERROR_TYPE, error_type)
        self.span.set_status(Status(StatusCode.ERROR, error_type))
        self._request.backend_unavailable(self._backend, error_type, backend_state)

    def commit(self) -> None:
        """Keep the span open until the stream ends; the request is now this backend's."""
        self._committed = True
        self._request.committed(self)

    def end(self, outcome: str, response_model: str | None) -> None:
        if outcome != OK:
            self.span.set_attribute(c.ERROR_TYPE, outcome)
            self.span.set_status(Status(StatusCode.ERROR, outcome))
        if response_model:
            self.span.set_attribute(c.RESPONSE_MODEL, response_model)
        self.span.end()


class RequestTelemetry:
    """The SERVER span of one chat request, and the metrics recorded when it finishes."""

    def __init__(self, tracer: trace.Tracer, instruments: Instruments, parent: otel_context.Context) -> None:
        self.tracer = tracer
        self._instruments = instruments
        self.span: Span = tracer.start_span(c.CHAT, context=parent, kind=SpanKind.SERVER)
        self._attempt: AttemptSpan | None = None
        self._provider: str | None = None
        self._response_model: str | None = None

    @property
    def trace_id(self) -> str | None:
        context = self.span.get_span_context()
        return trace.format_trace_id(context.trace_id) if context.is_valid else None

    def attempt(self, backend: BackendSettings) -> AttemptSpan:
        return AttemptSpan(self, backend)

    @contextmanager
    def current(self) -> Iterator[None]:
        token = otel_context.attach(trace.set_span_in_context(self.span))
        try:
            yield
        finally:
            otel_context.detach(token)

    def first_token(self) -> None:
        self.span.add_event(c.FIRST_TOKEN_EVENT)

    def heartbeat(self) -> None:
        self.span.add_event(c.HEARTBEAT_EVENT)

    def backend_unavailable(self, backend: str, error_type: str, state: str | None) -> None:
        """An attempt failed; when it left its backend cooling down or its circuit open, say so on the span."""
        if state is not None and state != "healthy":
            self.span.add_event(
                c.BACKEND_UNAVAILABLE_EVENT, {c.BACKEND: backend, c.BACKEND_STATE: state, c.ERROR_TYPE: error_type}
            )

    def committed(self, attempt: AttemptSpan) -> None:
        self._attempt = attempt
        self._provider = attempt.provider
        self._response_model = attempt.model

    def finish(self, record: RequestTrace) -> None:
        """End the spans and record the request's metrics; called once, when the stream ends."""
        outcome = record.outcome or OK
        now = record.clock()
        attributes = self._attributes(record, outcome)
        if self._attempt is not None:
            self._attempt.end(outcome, self._response_model)
        self._end_span(record, outcome, attributes)
        self._record_metrics(record, attributes, now)

    def _attributes(self, record: RequestTrace, outcome: str) -> Attributes:
        attributes: Attributes = {c.OPERATION_NAME: c.CHAT}
        optional = {
            c.REQUEST_MODEL: record.alias,
            c.PROVIDER_NAME: self._provider,
            c.RESPONSE_MODEL: self._response_model,
            c.BACKEND: record.backend,
            c.CLIENT: record.client,
        }
        attributes.update({name: value for name, value in optional.items() if value is not None})
        if outcome != OK:
            attributes[c.ERROR_TYPE] = outcome
        return attributes

    def _end_span(self, record: RequestTrace, outcome: str, attributes: Attributes) -> None:
        span = self.span
        if record.alias:
            span.update_name(f"{c.CHAT} {record.alias}")
        span.set_attributes(attributes)
        details: dict[str, AttributeValue | None] = {
            c.OUTCOME: outcome,
            c.ATTEMPTS: record.attempts,
            c.HEARTBEATS: record.heartbeats,
            c.OUTPUT_CHUNKS: record.chunks,
            c.STREAM: record.stream,
            c.INPUT_TOKENS: record.usage.prompt_tokens if record.usage else None,
            c.OUTPUT_TOKENS: record.usage.completion_tokens if record.usage else None,
            c.CACHE_READ_INPUT_TOKENS: record.usage.cached_tokens if record.usage else None,
            c.CACHE_CREATION_INPUT_TOKENS: record.usage.cache_write_tokens if record.usage else None,
        }
        span.set_attributes({name: value for name, value in details.items() if value is not None})
        if outcome != OK:
            span.set_status(Status(StatusCode.ERROR, outcome))
        span.end()

    def _record_metrics(self, record: RequestTrace, attributes: Attributes, now: float) -> None:
        meters = self._instruments
        meters.requests.add(1, {**attributes, c.OUTCOME: record.outcome or OK})
        meters.duration.record(now - record.started_at, attributes)
        if record.attempts:
            meters.attempts.record(record.attempts, attributes)
        if record.attempts > 1:
            meters.failovers.add(record.attempts - 1, {c.OPERATION_NAME: c.CHAT, c.REQUEST_MODEL: record.alias or ""})
        if record.usage is not None:
            for kind, tokens in (("input", record.usage.prompt_tokens), ("output", record.usage.completion_tokens)):
                meters.token_usage.record(tokens, {**attributes, c.TOKEN_TYPE: kind})
        if record.stream and record.first_token_at is not None:
            meters.time_to_first_chunk.record(record.first_token_at - record.started_at, attributes)
            if record.chunks > 1:
                mean = (now - record.first_token_at) / (record.chunks - 1)
                meters.time_per_output_chunk.record(mean, attributes)
