"""The relay: configuration, one adapter per backend, and the router, wired once.

``function_app.py`` builds one :class:`Relay` at import time, which is when
the Functions worker indexes the app, so a bad configuration stops the app
from loading with a message naming the field at fault.

Opening a request is where failover happens. Until the client has been sent
a byte, any retryable failure (a refused open, or a stream that dies before
its first event) is reported to the router and the next eligible backend is
tried, within ``routing.failover``'s attempt and time budget. The first item
of a stream (an event, or a heartbeat once ``stream.heartbeat_seconds`` pass)
commits the request to its backend; after that a failure can only end the
stream with an error event. Opens start at most ``OPENS_PER_TURN`` per
event-loop turn (:mod:`.turn_gate`), so a burst of new requests cannot stall
the streams already flowing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass

from .access import Access
from .chat_request import ChatRequest
from .config import RelayConfig, load_config
from .errors import (
    InvalidRequest,
    ModelNotFound,
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .events import Finish, StreamError, StreamEvent
from .providers import PROVIDERS
from .providers.contract import ProviderAdapter, UpstreamStream
from .redaction import scrub
from .request_log import RequestTrace
from .routing import Router, outcome_of_end, outcome_of_error
from .routing.dispatch import Dispatch
from .routing.outcome import NEUTRAL, RATE_LIMITED_CODE
from .routing.state import Condition
from .stream_guard import close_shielded, guarded_events
from .stream_pacing import paced_events
from .turn_gate import TurnGate

logger = logging.getLogger(__name__)

# Streams that may start opening per event-loop turn; more wait for later turns (see turn_gate.py).
# About 16 ms of opening work per turn at the ~1 ms an open costs, less than one 20 ms token interval.
OPENS_PER_TURN = 16

# What an adapter raises while building an upstream request from content it cannot express.
TRANSLATION_ERRORS = (ValueError, TypeError, RecursionError, OverflowError)

RelayItem = StreamEvent | bytes
RelayStream = AsyncGenerator[RelayItem, None]


@dataclass
class OpenedStream:
    """A stream committed to one backend, and how many backends were tried.

    ``events`` is guarded and paced: exactly one terminal event, heartbeats
    as bytes, upstream closed on every path.
    """

    backend: str
    attempts: int
    events: RelayStream


class Relay:
    """Everything a request needs, built once per process."""

    def __init__(
        self,
        config: RelayConfig,
        adapters: Mapping[str, ProviderAdapter],
        router: Router | None = None,
        access: Access | None = None,
    ) -> None:
        self.config = config
        self.adapters = dict(adapters)
        self.access = access if access is not None else Access.closed(config)
        self.router = router or Router(
            {alias: [config.backend(name) for name in names] for alias, names in config.models.items()},
            config.routing,
        )
        self._turn_gate = TurnGate(OPENS_PER_TURN)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Relay:
        """Validate ``RELAY_CONFIG`` and build every backend's SDK client."""
        environ = os.environ if environ is None else environ
        config = load_config(environ)
        adapters = {backend.name: PROVIDERS[backend.provider].build(backend, environ) for backend in config.backends}
        return cls(config, adapters, access=Access.build(config, environ))

    async def open(self, request: ChatRequest, trace: RequestTrace | None = None) -> OpenedStream:
        """Commit the request to the first backend that starts a stream, failing over before any byte.

        Raises ``ModelNotFound`` for an unknown alias, the upstream's own error
        when it is not retryable (the request is at fault), and otherwise a
        429 or 503 once no backend of the pool can serve.
        """
        if not self.router.pool(request.model):
            raise ModelNotFound(
                f"model {request.model!r} does not exist; GET /api/v1/models lists the models", param="model"
            )
        trace = trace or RequestTrace()
        await self._turn_gate.admit()
        failover = self.config.routing.failover
        deadline = asyncio.get_running_loop().time() + failover.budget_seconds
        tried: list[str] = []
        errors: list[UpstreamError] = []
        while len(tried) < failover.max_attempts and asyncio.get_running_loop().time() < deadline:
            dispatch = self.router.dispatch(request.model, exclude=tried)
            if dispatch is None:
                break
            tried.append(dispatch.name)
            trace.attempts, trace.backend = len(tried), dispatch.name
            try:
                events = await self._attempt(dispatch, request, deadline)
            except UpstreamError as exc:
                logger.warning("backend %s failed to open (%s, retryable=%s)", dispatch.name, exc.code, exc.retryable)
                if not exc.retryable:
                    raise
                errors.append(exc)
                continue
            return OpenedStream(backend=dispatch.name, attempts=len(tried), events=events)
        trace.backend = None
        raise self._pool_exhausted(request.model, errors)

    async def _attempt(self, dispatch: Dispatch, request: ChatRequest, deadline: float) -> RelayStream:
        """Open one backend and read until its first item; a retryable early death raises.

        The dispatch ends neutral if anything escapes before the stream that
        owns it from then on has recorded an outcome.
        """
        with dispatch:
            stream = await self._open_upstream(dispatch, request, deadline)
            events = self._reported(dispatch, paced_events(guarded_events(stream, dispatch.name), self.config.stream))
            try:
                first = await anext(events)
            except BaseException:
                await close_shielded(stream.aclose())
                raise
            if isinstance(first, StreamError) and first.retryable:
                await events.aclose()
                raise _error_from_event(dispatch.name, first)
            return _prepended(first, events)

    async def _open_upstream(self, dispatch: Dispatch, request: ChatRequest, deadline: float) -> UpstreamStream:
        """The adapter's ``open``, bounded by ``attempt_timeout_seconds`` and what is left of the budget.

        A backend that accepts the connection but never answers is abandoned
        as a timeout (held against it) so the next backend gets its turn.

        Only the upstream's own failures are held against the backend; an
        adapter that raises anything else becomes a clean relay error.
        """
        loop = asyncio.get_running_loop()
        attempt_seconds = self.config.routing.failover.attempt_timeout_seconds
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + attempt_seconds)):
                stream = await self.adapters[dispatch.name].open(request)
        except TimeoutError:
            error = UpstreamTimeout(f"backend {dispatch.name} sent no response headers in time")
            dispatch.end(outcome_of_error(error))
            raise error from None
        except UpstreamError as exc:
            dispatch.end(outcome_of_error(exc))
            scrub_message(exc)
            raise
        except RelayError:
            raise
        except Exception as exc:
            raise adapter_fault(dispatch.name, exc) from exc
        dispatch.observe_headers(stream.headers)
        return stream

    async def _reported(self, dispatch: Dispatch, events: RelayStream) -> RelayStream:
        """``events`` unchanged; how they end is reported to the router, exactly once."""
        try:
            async for item in events:
                if isinstance(item, Finish | StreamError):
                    dispatch.end(outcome_of_end(item))
                yield item
        finally:
            dispatch.end(NEUTRAL)
            await close_shielded(events.aclose())

    def _pool_exhausted(self, alias: str, errors: list[UpstreamError]) -> UpstreamError:
        """429 when rate limits are all that stand in the way, else 503; Retry-After from the pool's recovery."""
        retry_after = self.router.retry_after(alias)
        if self._only_rate_limited(alias, errors):
            retry_after = retry_after if retry_after is not None else self.config.routing.cooldown.default_seconds
            return UpstreamRateLimited(
                f"every backend for model {alias!r} is rate limited; retry after {math.ceil(retry_after)} s",
                retry_after=retry_after,
            )
        failure = next((error for error in reversed(errors) if error.status != 429), None)
        code = failure.code if failure else "upstream_unavailable"
        detail = f": {failure.message}" if failure else ""
        return UpstreamUnavailable(
            f"no backend for model {alias!r} could serve the request{detail}",
            code=code,
            status=503,
            retry_after=retry_after,
        )

    def _only_rate_limited(self, alias: str, errors: list[UpstreamError]) -> bool:
        """Every backend tried answered 429, the others are cooling down, and none is out for failures."""
        conditions = {self.router.condition(backend.name) for backend in self.router.pool(alias)}
        if conditions & {Condition.CIRCUIT_OPEN, Condition.PROBING}:
            return False
        if errors:
            return all(error.status == 429 for error in errors)
        return Condition.COOLING_DOWN in conditions

    def health(self) -> dict[str, object]:
        """Liveness and per-backend state; names and providers only, never secrets."""
        return {"status": "ok", "backends": self.router.health()}

    async def aclose(self) -> None:
        """Close every SDK client."""
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.access.aclose()


def scrub_message(error: UpstreamError) -> None:
    """Scrub ``error``'s upstream text in place: where a refused open's message enters the relay."""
    error.message = scrub(error.message)
    error.args = (error.message,)


def adapter_fault(backend: str, error: Exception) -> RelayError:
    """What the client is told when an adapter's ``open`` raised something other than a relay error.

    The translation errors are what building the upstream request raises on
    content it cannot express (NaN, a lone surrogate, nesting too deep), so
    they are the client's 400; anything else is a bug in the relay, a 500.
    Neither is the backend's fault, and neither message repeats the
    exception's text, which may quote the request.
    """
    kind = type(error).__name__
    if isinstance(error, TRANSLATION_ERRORS):
        logger.warning("backend %s could not translate the request (%s)", backend, kind)
        return InvalidRequest(f"the request holds a value the provider cannot accept ({kind}); check its fields")
    logger.error("backend %s: unexpected failure while opening the upstream", backend, exc_info=error)
    return RelayError("the relay failed unexpectedly while opening the upstream; please retry", code="internal_error")


def _error_from_event(backend: str, event: StreamError) -> UpstreamError:
    """A stream that died before its first event, as the error an ``open`` would have raised."""
    message = f"backend {backend} failed before its first event: {event.message}"
    if event.code == RATE_LIMITED_CODE:
        return UpstreamRateLimited(message, retry_after=event.retry_after)
    return UpstreamUnavailable(message, code=event.code, retry_after=event.retry_after)


async def _prepended(first: RelayItem, rest: RelayStream) -> RelayStream:
    """``first``, then everything in ``rest``; closing this closes ``rest``."""
    try:
        yield first
        async for item in rest:
            yield item
    finally:
        await close_shielded(rest.aclose())
